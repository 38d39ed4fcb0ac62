// report_quality.h: what the ESGE/ASGE quality indicators and the MST
// structure require and the report lacks (a BBPS segment not scored, caecum
// not documented by an image, withdrawal under 6 minutes, a resected polyp not
// marked retrieved, a finding without the location/size its term requires,
// AI values not yet accepted, unsigned, ...). Each warning names the field
// path the UI can jump to and says why in words. Warnings never block saving.
#pragma once
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

struct QualityWarning {
    std::string path;     // field path, e.g. "bowel_preparation.bbps_left", "interventions[1].retrieved"
    std::string code;     // stable id for grouping/tests, e.g. "bbps_segment_missing"
    std::string message;  // plain words: what is missing and why it matters
    bool blocks_signing = false;  // true for what a signed report must not have (unaccepted AI values)
};

// `case_images` (optional): the case's image keys; evidence naming another
// image is then reported as a broken link.
std::vector<QualityWarning> report_quality_warnings(const Report& report, const ReportVocabulary& vocab,
                                                    const std::vector<std::string>* case_images = nullptr);

// The minimum withdrawal time of the quality indicators (ESGE/ASGE: ≥ 6 min).
constexpr double kMinWithdrawalMinutes = 6.0;

}  // namespace es

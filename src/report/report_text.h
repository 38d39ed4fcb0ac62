// report_text.h: the report as plain text for pasting into a hospital system
// (sections in MST order, fixed headings, lines under 100 characters where the
// content allows, no markup). Same content as the HTML and PDF renderings.
#pragma once
#include <string>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

std::string report_text(const Report& report, const ReportVocabulary& vocab);

// Shared by the renderers: "FINAL, version 2, signed by Dr X on 2026-11-30T10:00:00Z",
// "DRAFT, not signed", "AMENDMENT (version 3) in progress, not signed".
std::string report_status_line(const Report& report);

}  // namespace es

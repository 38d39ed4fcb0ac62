// report_narrative.h: the findings text and impression written from the
// structured content, deterministically (same report → same words), in the
// vocabulary's display names. The text, HTML and PDF renderers and the AI
// drafter's "write the narrative" all use it, so the prose never disagrees
// with the fields.
#pragma once
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

// One finding as a sentence, with what was done to it:
// "Polyp, 6 mm, Paris 0-Is, NICE 2, in the sigmoid colon at 25 cm. Removed by
// cold snare polypectomy, en bloc, retrieved (pot 1)."
std::string finding_sentence(const Report& report, const Finding& finding, const ReportVocabulary& vocab);

// Extent and preparation as sentences ("Colonoscopy to the caecum, documented
// by images of the appendiceal orifice and the ileocaecal valve. Boston Bowel
// Preparation Scale 8 (right 2, transverse 3, left 3): adequate. Withdrawal time 8.5 min.").
std::string extent_sentences(const Report& report, const ReportVocabulary& vocab);

struct ReportNarrative {
    std::string findings_text;                 // extent + preparation + one paragraph per finding
    std::vector<std::string> finding_sentences; // in findings order
    std::string impression;                    // a short numbered summary of the findings
};

ReportNarrative report_narrative(const Report& report, const ReportVocabulary& vocab);

// The recorded surveillance in words: "Surveillance colonoscopy in 3 years
// (rule usmstf2020.adenomas-3-4), confirmed by the clinician." or "".
std::string surveillance_sentence(const Report& report);

// "En bloc" → "en bloc" for use mid-sentence (acronyms such as "EMR" stay).
std::string report_lower_first(std::string s);

// Numbers as people write them: 8.5, 25, 0.5 (no trailing zeros).
std::string report_number(double v);

}  // namespace es

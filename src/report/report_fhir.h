// report_fhir.h: the report as an HL7 FHIR R4 document Bundle (JSON).
//
// Bundle.type "document": the report is a clinical document that is signed,
// amended and filed as a whole, which is what FHIR documents are for: the first
// entry is a Composition (status preliminary | final | amended, the signer as a
// legal attester, one section per MST 3.0 section) and the Bundle carries a
// stable identifier per report version and a timestamp. A "collection" would
// carry the same resources without the attestation and the sections.
//
// Entries: Composition, Patient (no identity: EndoScribe keeps none; the
// receiving system links the patient), Practitioner (the endoscopist),
// DiagnosticReport (results, media, conclusion, the PDF as presentedForm),
// Procedure (the examination) and one per intervention (partOf it), an
// Observation per finding (components for size, distance, number, Paris, NICE,
// JNET and the term's attributes; derivedFrom its images), an Observation for
// bowel preparation (BBPS total with a component per segment and adequacy) and
// one for withdrawal time, and a Media per key image (bytes base64).
// Codes: SNOMED CT and LOINC where a well-known code exists (listed in
// README.md), always with the vocabulary's own code in a local code system
// (kFhirCodeSystemBase + list name). AI-suggested values carry an extension
// with their probability and whether the user accepted them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "report/report.h"
#include "report/report_html.h"  // ReportImage
#include "report/report_vocabulary.h"

namespace es {

// Local code systems: kFhirCodeSystemBase + "terms" (MST finding terms),
// + "segments", "procedures", "indications", ..., + "report-fields".
inline constexpr const char* kFhirCodeSystemBase = "http://endoscribe.local/fhir/CodeSystem/";
inline constexpr const char* kFhirAiExtension = "http://endoscribe.local/fhir/StructureDefinition/ai-suggestion";

struct ReportFhirOptions {
    std::string generated_at;        // instant of the export (Bundle.timestamp), "YYYY-MM-DDTHH:MM:SSZ"; required
    std::string report_key;          // what makes the identifiers unique (e.g. the case id); "" = the report content
    std::vector<uint8_t> pdf;        // the PDF (report_to_pdf) for DiagnosticReport.presentedForm; empty = none
    bool include_image_bytes = true; // Media.content.data; false = only titles and sizes
};

struct ReportFhir {
    bool ok = false;
    std::string json;  // the Bundle
    std::string error;
    std::vector<std::string> warnings;
};

ReportFhir report_to_fhir(const Report& report, const ReportVocabulary& vocab, const std::vector<ReportImage>& images,
                          const ReportFhirOptions& options);

}  // namespace es

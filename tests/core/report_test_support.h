// report_test_support.h: the shipped report vocabulary (models/report) and a
// filled-in example report, shared by the report_*_test.cpp files.
#pragma once
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es_test {

inline std::string read_report_model(const std::string& name) {
    std::ifstream f(std::string(ES_SOURCE_DIR) + "/models/report/" + name, std::ios::binary);
    if (!f) throw std::runtime_error("missing models/report/" + name);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The vocabulary files in the documented order (README.md).
inline const std::vector<std::string>& report_vocabulary_files() {
    return es::report_vocabulary_file_names();
}

inline const es::ReportVocabulary& shipped_vocabulary() {
    static const es::ReportVocabulary vocab = [] {
        std::vector<std::string> texts;
        for (const std::string& f : report_vocabulary_files()) texts.push_back(read_report_model(f));
        es::ReportVocabulary v;
        std::string error;
        if (!es::report_vocabulary_load(v, texts, report_vocabulary_files(), &error))
            throw std::runtime_error("shipped vocabulary does not load: " + error);
        return v;
    }();
    return vocab;
}

inline const char* kWhen = "2026-11-30T09:15:00Z";

template <class T>
es::Field<T> user_value(T v, const std::string& who = "dr.smith") {
    es::Field<T> f;
    es::field_set_user(f, std::move(v), who, kWhen);
    return f;
}

// A colonoscopy with two polyps, one resected piecemeal, complete with caecal images.
inline es::Report example_colonoscopy() {
    using namespace es;
    Report r;
    r.header.procedure = user_value<std::string>("colonoscopy");
    r.header.date = user_value<std::string>("2026-11-30");
    r.header.endoscopist = user_value<std::string>("Dr A. Smith");
    r.header.instrument = user_value<std::string>("CF-HQ190L");
    r.header.sedation = user_value<std::string>("moderate-sedation");
    r.header.indications = user_value<TextList>({"screening-positive-fit"});
    r.extent.landmarks_reached = user_value<TextList>({"cecum", "appendiceal-orifice", "ileocecal-valve"});
    r.extent.caecal_intubation = user_value(true);
    r.extent.caecal_evidence = user_value<ImageLinks>({{"cecum_01.jpg", 0, "appendiceal-orifice"},
                                                       {"cecum_02.jpg", 3, "ileocecal-valve"}});
    r.bowel_preparation.bbps_right = user_value(2);
    r.bowel_preparation.bbps_transverse = user_value(3);
    r.bowel_preparation.bbps_left = user_value(3);
    r.bowel_preparation.withdrawal_time_min = user_value(8.5);
    Finding f1;
    f1.id = "F1";
    f1.term = user_value<std::string>("polyp");
    f1.location_segment = user_value<std::string>("sigmoid-colon");
    f1.distance_cm = user_value(25.0);
    f1.size_mm = user_value(6.0);
    f1.number = user_value(1);
    f1.paris = user_value<std::string>("0-Is");
    f1.nice = user_value<std::string>("2");
    f1.evidence = user_value<ImageLinks>({{"polyp_01.jpg", 1, ""}});
    r.findings.push_back(f1);
    Finding f2;
    f2.id = "F2";
    f2.term = user_value<std::string>("polyp");
    f2.location_segment = user_value<std::string>("ascending-colon");
    f2.size_mm = user_value(22.0);
    f2.number = user_value(1);
    f2.paris = user_value<std::string>("0-IIa+IIc");
    f2.jnet = user_value<std::string>("2A");
    f2.attributes["lst_type"] = user_value<AttributeValue>(std::string("granular-homogeneous"));
    f2.notes = user_value<std::string>("Lifted well after submucosal injection.");
    r.findings.push_back(f2);
    Intervention i1;
    i1.id = "I1";
    i1.finding_id = "F1";
    i1.method = user_value<std::string>("cold-snare-polypectomy");
    i1.resection = user_value<std::string>("en_bloc");
    i1.retrieved = user_value(true);
    i1.specimen_container = user_value<std::string>("1");
    r.interventions.push_back(i1);
    Intervention i2;
    i2.id = "I2";
    i2.finding_id = "F2";
    i2.method = user_value<std::string>("emr");
    i2.resection = user_value<std::string>("piecemeal");
    i2.retrieved = user_value(true);
    i2.specimen_container = user_value<std::string>("2");
    r.interventions.push_back(i2);
    r.adverse_events = user_value<TextList>({"none"});
    r.impression = user_value<std::string>("Two polyps removed.");
    return r;
}

}  // namespace es_test

// report_fhir.cpp: see report_fhir.h. Resources reference each other by
// urn:uuid fullUrls, derived from the report (so the same report version gives
// the same Bundle bytes and a new version new identifiers).
#include "report/report_fhir.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "encoding/base64.h"
#include "image/image.h"
#include "report/report_json.h"
#include "report/report_pdf.h"

namespace es {
namespace {

using ojson = nlohmann::ordered_json;

const char kSnomed[] = "http://snomed.info/sct";
const char kLoinc[] = "http://loinc.org";
const char kUcum[] = "http://unitsofmeasure.org";

// Well-known codes for vocabulary ids (list, id) → (system, code, display).
// Only codes we are sure of; everything also carries its local code.
struct KnownCode {
    const char* list;
    const char* id;
    const char* system;
    const char* code;
    const char* display;
};
const KnownCode kKnownCodes[] = {
    {"procedures", "colonoscopy", kSnomed, "73761001", "Colonoscopy"},
    {"procedures", "sigmoidoscopy", kSnomed, "24420007", "Sigmoidoscopy"},
    {"procedures", "gastroscopy", kSnomed, "76009000", "Esophagogastroduodenoscopy"},
    {"segments", "terminal-ileum", kSnomed, "85774003", "Terminal ileum structure"},
    {"segments", "cecum", kSnomed, "32713005", "Cecum structure"},
    {"segments", "ascending-colon", kSnomed, "9040008", "Ascending colon structure"},
    {"segments", "transverse-colon", kSnomed, "485005", "Transverse colon structure"},
    {"segments", "descending-colon", kSnomed, "32622004", "Descending colon structure"},
    {"segments", "sigmoid-colon", kSnomed, "60184004", "Sigmoid colon structure"},
    {"segments", "rectum", kSnomed, "34402009", "Rectum structure"},
    {"segments", "esophagus", kSnomed, "32849002", "Esophageal structure"},
    {"segments", "stomach", kSnomed, "69695003", "Stomach structure"},
    {"segments", "duodenum", kSnomed, "38848004", "Duodenal structure"},
    {"terms", "polyp", kSnomed, "68496003", "Polyp of colon"},
};
// The report's document type (Composition.type, DiagnosticReport.code), LOINC.
const KnownCode kReportTypes[] = {
    {"procedures", "colonoscopy", kLoinc, "18746-8", "Colonoscopy study"},
    {"procedures", "sigmoidoscopy", kLoinc, "18753-4", "Flexible sigmoidoscopy study"},
    {"procedures", "gastroscopy", kLoinc, "18751-8", "Endoscopy study"},
};

uint64_t fnv1a(const std::string& s, uint64_t h) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// A name-based UUID (RFC 9562 version 8: custom) from the text.
std::string uuid_for(const std::string& text) {
    uint64_t a = fnv1a(text, 14695981039346656037ull), b = fnv1a(text + "\x01", 0x84222325cbf29ce4ull);
    a = (a & ~0xF000ull) | 0x8000ull;                        // version 8 in bits 48-51
    b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC variant
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(a >> 32), unsigned((a >> 16) & 0xFFFF),
                  unsigned(a & 0xFFFF), unsigned(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFull));
    return buf;
}

// FHIR instant needs seconds: "2026-11-30T10:02Z" → "2026-11-30T10:02:00Z". A date alone stays a date.
std::string fhir_time(const std::string& iso) {
    if (iso.size() == 17 && iso[10] == 'T' && iso[16] == 'Z') return iso.substr(0, 16) + ":00Z";
    return iso;
}
bool is_instant(const std::string& s) { return s.size() >= 20 && s[10] == 'T' && s.back() == 'Z'; }

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

ojson number_json(double v) {
    // Decimals as written (no 8.5000001): round to 4 places, integers as integers.
    const double r = std::round(v * 10000) / 10000;
    if (r == std::floor(r) && std::fabs(r) < 1e15) return ojson(int64_t(r));
    return ojson(r);
}

struct Builder {
    const Report& r;
    const ReportVocabulary& vocab;
    const ReportFhirOptions& opt;
    std::string key;  // identity of this report version
    ojson entries = ojson::array();
    std::vector<std::string> warnings;

    std::string ref(const std::string& what) const { return "urn:uuid:" + uuid_for(key + "/" + what); }

    void add(const std::string& what, ojson resource) {
        entries.push_back({{"fullUrl", ref(what)}, {"resource", std::move(resource)}});
    }

    std::string name_of(const std::string& list, const std::string& id) const {
        if (list == "terms") {
            const ReportTerm* t = vocab.find_term(id);
            return t && !t->name.empty() ? t->name : id;
        }
        const VocabOption* o = vocab.find(list, id);
        return o && !o->name.empty() ? o->name : id;
    }

    ojson coding(const std::string& system, const std::string& code, const std::string& display) const {
        ojson c;
        c["system"] = system;
        c["code"] = code;
        if (!display.empty()) c["display"] = display;
        return c;
    }

    // A CodeableConcept for a vocabulary id: the well-known code first, then the local one.
    ojson concept(const std::string& list, const std::string& id) const {
        ojson codings = ojson::array();
        for (const KnownCode& k : kKnownCodes)
            if (list == k.list && id == k.id) codings.push_back(coding(k.system, k.code, k.display));
        codings.push_back(coding(std::string(kFhirCodeSystemBase) + list, id, name_of(list, id)));
        return {{"coding", codings}, {"text", name_of(list, id)}};
    }
    ojson field_concept(const std::string& field, const std::string& display) const {
        return {{"coding", ojson::array({coding(std::string(kFhirCodeSystemBase) + "report-fields", field, display)})},
                {"text", display}};
    }

    // The AI provenance of a value, as an extension (nothing for user values).
    template <class T>
    void provenance(ojson& element, const Field<T>& f) const {
        if (!f.has_value() || f.source == ValueSource::User) return;
        ojson ext = {{"url", kFhirAiExtension}, {"extension", ojson::array()}};
        ext["extension"].push_back({{"url", "source"}, {"valueCode", value_source_name(f.source)}});
        if (f.probability) ext["extension"].push_back({{"url", "probability"}, {"valueDecimal", number_json(*f.probability)}});
        ext["extension"].push_back({{"url", "accepted"}, {"valueBoolean", f.accepted}});
        if (!f.set_by.empty()) ext["extension"].push_back({{"url", "model"}, {"valueString", f.set_by}});
        element["extension"].push_back(std::move(ext));
    }

    ojson quantity(double v, const char* unit) const {
        return {{"value", number_json(v)}, {"unit", unit}, {"system", kUcum}, {"code", unit}};
    }

    std::string status_observation() const {
        if (r.status == ReportStatus::Final) return r.version > 1 ? "amended" : "final";
        return "preliminary";
    }

    bool lower_gi() const {
        const std::string proc = r.header.procedure.value_or("");
        const VocabOption* p = vocab.find("procedures", proc);
        return proc.empty() || (p && p->property("tract") != "upper");
    }

    ojson report_type() const {
        const std::string proc = r.header.procedure.value_or("");
        for (const KnownCode& k : kReportTypes)
            if (proc == k.id) return {{"coding", ojson::array({coding(k.system, k.code, k.display)})}, {"text", std::string(k.display)}};
        return {{"coding", ojson::array({coding(kLoinc, "18751-8", "Endoscopy study")})}, {"text", "Endoscopy study"}};
    }

    std::string effective() const {
        if (r.header.date.has_value()) return fhir_time(*r.header.date.value);
        return fhir_time(opt.generated_at);
    }
};

}  // namespace

ReportFhir report_to_fhir(const Report& r, const ReportVocabulary& vocab, const std::vector<ReportImage>& images,
                          const ReportFhirOptions& opt) {
    ReportFhir out;
    if (!is_instant(fhir_time(opt.generated_at))) {
        out.error = "the export time must be an ISO-8601 UTC instant such as 2026-11-30T09:15:00Z, not \"" +
                    opt.generated_at + "\"";
        return out;
    }
    Builder b{r, vocab, opt, "", ojson::array(), {}};
    b.key = (opt.report_key.empty() ? report_content_to_json(r) : opt.report_key) + "#v" + std::to_string(r.version) +
            (r.status == ReportStatus::Final ? "final" : "draft");
    const std::string procedure_name = r.header.procedure.has_value() ? b.name_of("procedures", *r.header.procedure.value)
                                                                     : "Endoscopy";
    const std::string patient = b.ref("patient"), practitioner = b.ref("practitioner"), dr = b.ref("diagnostic-report"),
                      procedure = b.ref("procedure"), composition = b.ref("composition");

    // Key images → Media (each image once, in order of first mention).
    std::vector<std::string> media_images;
    std::map<std::string, std::vector<std::string>> media_refs;  // image → what links it ("F1", "appendiceal orifice")
    auto link = [&](const ImageLink& l, const std::string& who) {
        if (std::find(media_images.begin(), media_images.end(), l.image) == media_images.end()) media_images.push_back(l.image);
        auto& v = media_refs[l.image];
        if (std::find(v.begin(), v.end(), who) == v.end()) v.push_back(who);
    };
    if (r.extent.caecal_evidence.has_value())
        for (const ImageLink& l : *r.extent.caecal_evidence.value)
            link(l, l.landmark.empty() ? "caecal landmark" : b.name_of("landmarks", l.landmark));
    for (const Finding& f : r.findings)
        if (f.evidence.has_value())
            for (const ImageLink& l : *f.evidence.value) link(l, f.id);
    std::map<std::string, std::string> media_ref;
    ojson media_entries = ojson::array();
    for (const std::string& name : media_images) {
        const ReportImage* file = nullptr;
        for (const ReportImage& img : images)
            if (img.name == name) file = &img;
        if (!file) {
            out.warnings.push_back("the report links image \"" + name + "\", which is not in the case; it is left out");
            continue;
        }
        ojson m;
        m["resourceType"] = "Media";
        m["status"] = "completed";
        m["type"] = {{"coding", ojson::array({b.coding("http://terminology.hl7.org/CodeSystem/media-type", "image", "Image")})}};
        m["subject"] = {{"reference", patient}};
        m["createdDateTime"] = b.effective();
        m["operator"] = {{"reference", practitioner}};
        const std::string fmt = sniff_image_format(file->bytes.data(), file->bytes.size());
        ojson content;
        content["contentType"] = fmt == "png" ? "image/png" : fmt == "jpeg" ? "image/jpeg" : fmt == "bmp" ? "image/bmp" : "application/octet-stream";
        if (opt.include_image_bytes) content["data"] = base64_encode(file->bytes);
        content["size"] = file->bytes.size();
        content["title"] = name;
        m["content"] = content;
        DecodeResult d = decode_image(file->bytes.data(), file->bytes.size());
        if (d.ok) {
            m["height"] = d.image.height;
            m["width"] = d.image.width;
        }
        std::string refs;
        for (const std::string& s : media_refs[name]) refs += (refs.empty() ? "" : ", ") + s;
        m["note"] = ojson::array({{{"text", "Evidence for " + refs}}});
        media_ref[name] = b.ref("media/" + name);
        media_entries.push_back({{"fullUrl", media_ref[name]}, {"resource", m}});
    }

    // Observations: one per finding.
    ojson results = ojson::array();
    ojson finding_entries = ojson::array();
    std::map<std::string, std::string> finding_ref;
    for (const Finding& f : r.findings) {
        ojson o;
        o["resourceType"] = "Observation";
        o["identifier"] = ojson::array({{{"system", std::string(kFhirCodeSystemBase) + "finding-id"}, {"value", f.id}}});
        o["status"] = b.status_observation();
        o["category"] = ojson::array(
            {{{"coding", ojson::array({b.coding("http://terminology.hl7.org/CodeSystem/observation-category", "procedure", "Procedure")})}}});
        if (f.term.has_value()) {
            o["code"] = b.concept("terms", *f.term.value);
            b.provenance(o["code"], f.term);
        } else {
            o["code"] = b.field_concept("finding", "Finding (term not chosen)");
        }
        o["subject"] = {{"reference", patient}};
        o["effectiveDateTime"] = b.effective();
        o["performer"] = ojson::array({{{"reference", practitioner}}});
        if (f.location_segment.has_value()) {
            o["bodySite"] = b.concept("segments", *f.location_segment.value);
            b.provenance(o["bodySite"], f.location_segment);
        }
        ojson comps = ojson::array();
        auto comp = [&](const std::string& field, const std::string& display, const char* value_key, ojson value, auto& fld) {
            ojson c;
            c["code"] = b.field_concept(field, display);
            c[value_key] = std::move(value);
            b.provenance(c, fld);
            comps.push_back(std::move(c));
        };
        if (f.size_mm.has_value()) comp("size_mm", "Size (largest diameter)", "valueQuantity", b.quantity(*f.size_mm.value, "mm"), f.size_mm);
        if (f.distance_cm.has_value())
            comp("distance_cm", b.lower_gi() ? "Distance from the anus" : "Distance from the incisors", "valueQuantity",
                 b.quantity(*f.distance_cm.value, "cm"), f.distance_cm);
        if (f.number.has_value()) comp("number", "Number of lesions", "valueInteger", *f.number.value, f.number);
        if (f.paris.has_value()) comp("paris", "Paris classification", "valueCodeableConcept", b.concept("paris", *f.paris.value), f.paris);
        if (f.nice.has_value()) comp("nice", "NICE classification", "valueCodeableConcept", b.concept("nice", *f.nice.value), f.nice);
        if (f.jnet.has_value()) comp("jnet", "JNET classification", "valueCodeableConcept", b.concept("jnet", *f.jnet.value), f.jnet);
        for (const auto& [id, field] : f.attributes) {
            if (!field.has_value()) continue;
            const ReportAttribute* a = vocab.find_attribute(id);
            const std::string display = a && !a->name.empty() ? a->name : id;
            const AttributeValue& v = *field.value;
            if (const std::string* s = std::get_if<std::string>(&v)) {
                if (a && !a->list.empty()) comp(id, display, "valueCodeableConcept", b.concept(a->list, *s), field);
                else comp(id, display, "valueString", *s, field);
            } else if (const double* d = std::get_if<double>(&v)) {
                if (a && !a->unit.empty()) comp(id, display, "valueQuantity", b.quantity(*d, a->unit.c_str()), field);
                else comp(id, display, "valueQuantity", ojson{{"value", number_json(*d)}}, field);
            } else {
                comp(id, display, "valueBoolean", std::get<bool>(v), field);
            }
        }
        if (!comps.empty()) o["component"] = comps;
        if (f.notes.has_value()) o["note"] = ojson::array({{{"text", *f.notes.value}}});
        if (f.evidence.has_value()) {
            ojson from = ojson::array();
            std::vector<std::string> seen;
            for (const ImageLink& l : *f.evidence.value) {
                auto it = media_ref.find(l.image);
                if (it == media_ref.end() || std::find(seen.begin(), seen.end(), l.image) != seen.end()) continue;
                seen.push_back(l.image);
                from.push_back({{"reference", it->second}, {"display", l.image}});
            }
            if (!from.empty()) o["derivedFrom"] = from;
        }
        finding_ref[f.id] = b.ref("finding/" + f.id);
        results.push_back({{"reference", finding_ref[f.id]}, {"display", f.id}});
        finding_entries.push_back({{"fullUrl", finding_ref[f.id]}, {"resource", o}});
    }

    // Bowel preparation (BBPS) and withdrawal time.
    ojson prep_entries = ojson::array();
    const BowelPreparation& p = r.bowel_preparation;
    if (p.bbps_right.has_value() || p.bbps_transverse.has_value() || p.bbps_left.has_value()) {
        ojson o;
        o["resourceType"] = "Observation";
        o["status"] = b.status_observation();
        o["category"] = ojson::array(
            {{{"coding", ojson::array({b.coding("http://terminology.hl7.org/CodeSystem/observation-category", "procedure", "Procedure")})}}});
        o["code"] = b.field_concept("bbps", "Boston Bowel Preparation Scale");
        o["subject"] = {{"reference", patient}};
        o["effectiveDateTime"] = b.effective();
        if (auto total = bbps_total(p)) {
            o["valueInteger"] = *total;
            o["interpretation"] = ojson::array({b.field_concept(*bbps_adequate(p) ? "bbps-adequate" : "bbps-inadequate",
                                                                *bbps_adequate(p) ? "Adequate (total >= 6 and every segment >= 2)"
                                                                                  : "Inadequate (total < 6 or a segment < 2)")});
        } else {
            o["dataAbsentReason"] = {{"coding", ojson::array({b.coding("http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                                                      "not-performed", "Not Performed")})},
                                     {"text", "not every segment was scored"}};
        }
        ojson comps = ojson::array();
        auto seg = [&](const char* field, const char* display, const Field<int>& v) {
            if (!v.has_value()) return;
            ojson c;
            c["code"] = b.field_concept(field, display);
            c["valueInteger"] = *v.value;
            b.provenance(c, v);
            comps.push_back(std::move(c));
        };
        seg("bbps_right", "BBPS right colon", p.bbps_right);
        seg("bbps_transverse", "BBPS transverse colon", p.bbps_transverse);
        seg("bbps_left", "BBPS left colon", p.bbps_left);
        o["component"] = comps;
        const std::string ref = b.ref("bbps");
        results.push_back({{"reference", ref}, {"display", "Bowel preparation"}});
        prep_entries.push_back({{"fullUrl", ref}, {"resource", o}});
    }
    if (p.withdrawal_time_min.has_value()) {
        ojson o;
        o["resourceType"] = "Observation";
        o["status"] = b.status_observation();
        o["code"] = b.field_concept("withdrawal_time_min", "Withdrawal time");
        o["subject"] = {{"reference", patient}};
        o["effectiveDateTime"] = b.effective();
        o["valueQuantity"] = b.quantity(*p.withdrawal_time_min.value, "min");
        b.provenance(o["valueQuantity"], p.withdrawal_time_min);
        const std::string ref = b.ref("withdrawal-time");
        results.push_back({{"reference", ref}, {"display", "Withdrawal time"}});
        prep_entries.push_back({{"fullUrl", ref}, {"resource", o}});
    }

    // The examination and its interventions.
    ojson proc;
    proc["resourceType"] = "Procedure";
    proc["status"] = "completed";
    if (r.header.procedure.has_value()) proc["code"] = b.concept("procedures", *r.header.procedure.value);
    else proc["code"] = b.field_concept("procedure", "Endoscopy");
    proc["subject"] = {{"reference", patient}};
    proc["performedDateTime"] = b.effective();
    proc["performer"] = ojson::array({{{"actor", {{"reference", practitioner}}}}});
    if (r.header.indications.has_value() && !r.header.indications.value->empty()) {
        proc["reasonCode"] = ojson::array();
        for (const std::string& id : *r.header.indications.value) proc["reasonCode"].push_back(b.concept("indications", id));
    }
    if (r.adverse_events.has_value()) {
        ojson comp = ojson::array();
        for (const std::string& id : *r.adverse_events.value)
            if (id != "none") comp.push_back(b.concept("adverse_events", id));
        if (!comp.empty()) proc["complication"] = comp;
    }
    proc["report"] = ojson::array({{{"reference", dr}}});
    {
        ojson notes = ojson::array();
        if (r.header.instrument.has_value()) notes.push_back({{"text", "Instrument: " + *r.header.instrument.value}});
        if (r.header.sedation.has_value()) notes.push_back({{"text", "Sedation: " + b.name_of("sedation", *r.header.sedation.value)}});
        if (r.extent.landmarks_reached.has_value()) {
            std::string s;
            for (const std::string& id : *r.extent.landmarks_reached.value) s += (s.empty() ? "" : ", ") + b.name_of("landmarks", id);
            notes.push_back({{"text", "Landmarks reached: " + (s.empty() ? std::string("none") : s)}});
        }
        if (r.extent.caecal_intubation.has_value())
            notes.push_back({{"text", std::string("Caecal intubation: ") + (*r.extent.caecal_intubation.value ? "yes" : "no")}});
        if (r.extent.incomplete_reason.has_value())
            notes.push_back({{"text", "Incomplete: " + b.name_of("incomplete_reasons", *r.extent.incomplete_reason.value)}});
        if (!notes.empty()) proc["note"] = notes;
    }
    ojson intervention_entries = ojson::array();
    for (const Intervention& i : r.interventions) {
        ojson o;
        o["resourceType"] = "Procedure";
        o["identifier"] = ojson::array({{{"system", std::string(kFhirCodeSystemBase) + "intervention-id"}, {"value", i.id}}});
        o["partOf"] = ojson::array({{{"reference", procedure}}});
        o["status"] = "completed";
        if (i.method.has_value()) {
            o["code"] = b.concept("interventions", *i.method.value);
            b.provenance(o["code"], i.method);
        } else {
            o["code"] = b.field_concept("intervention", "Intervention (method not recorded)");
        }
        o["subject"] = {{"reference", patient}};
        o["performedDateTime"] = b.effective();
        if (!i.finding_id.empty() && finding_ref.count(i.finding_id))
            o["reasonReference"] = ojson::array({{{"reference", finding_ref[i.finding_id]}, {"display", i.finding_id}}});
        if (i.resection.has_value() || i.retrieved.has_value()) {
            ojson outcome = {{"coding", ojson::array()}};
            std::string text;
            if (i.resection.has_value()) {
                outcome["coding"].push_back(b.coding(std::string(kFhirCodeSystemBase) + "resection", *i.resection.value,
                                                     b.name_of("resection", *i.resection.value)));
                text = b.name_of("resection", *i.resection.value);
            }
            if (i.retrieved.has_value()) {
                const bool got = *i.retrieved.value;
                outcome["coding"].push_back(b.coding(std::string(kFhirCodeSystemBase) + "specimen-retrieval",
                                                     got ? "retrieved" : "not-retrieved",
                                                     got ? "Specimen retrieved" : "Specimen not retrieved"));
                text += std::string(text.empty() ? "" : ", ") + (got ? "specimen retrieved" : "specimen not retrieved");
            }
            outcome["text"] = text;
            o["outcome"] = outcome;
        }
        if (i.specimen_container.has_value()) o["note"] = ojson::array({{{"text", "Specimen container " + *i.specimen_container.value}}});
        const std::string ref = b.ref("intervention/" + i.id);
        intervention_entries.push_back({{"fullUrl", ref}, {"resource", o}});
    }

    // The DiagnosticReport.
    const bool final = r.status == ReportStatus::Final;
    const ReportVersion* signed_version = final && !r.versions.empty() ? &r.versions.back() : nullptr;
    ojson d;
    d["resourceType"] = "DiagnosticReport";
    d["identifier"] = ojson::array({{{"system", "urn:ietf:rfc:3986"}, {"value", "urn:uuid:" + uuid_for(b.key + "/report-id")}}});
    d["status"] = final ? (r.version > 1 ? "amended" : "final") : "preliminary";
    d["code"] = b.report_type();
    d["subject"] = {{"reference", patient}};
    d["effectiveDateTime"] = b.effective();
    if (signed_version && is_instant(fhir_time(signed_version->signed_at))) d["issued"] = fhir_time(signed_version->signed_at);
    d["performer"] = ojson::array({{{"reference", practitioner}}});
    if (final) d["resultsInterpreter"] = ojson::array({{{"reference", practitioner}}});
    if (!results.empty()) d["result"] = results;
    if (!media_entries.empty()) {
        d["media"] = ojson::array();
        for (const ojson& m : media_entries)
            d["media"].push_back({{"comment", m["resource"]["note"][0]["text"]}, {"link", {{"reference", m["fullUrl"]}}}});
    }
    {
        std::string conclusion;
        if (r.impression.has_value()) conclusion = *r.impression.value;
        if (r.recommendations.has_value())
            conclusion += std::string(conclusion.empty() ? "" : "\n\n") + "Recommendations: " + *r.recommendations.value;
        if (r.surveillance.interval_years.has_value()) {
            const double y = *r.surveillance.interval_years.value;
            const bool confirmed = r.surveillance.confirmed.has_value() && *r.surveillance.confirmed.value;
            conclusion += std::string(conclusion.empty() ? "" : "\n\n") + "Surveillance: next examination in " +
                          (y < 1 ? number_text(std::round(y * 12)) + " months" : number_text(y) + (y == 1 ? " year" : " years")) +
                          (r.surveillance.rule_id.has_value() && !r.surveillance.rule_id.value->empty()
                               ? " (guideline rule " + *r.surveillance.rule_id.value + ")"
                               : "") +
                          (confirmed ? ", confirmed by the endoscopist" : ", suggested, not yet confirmed");
        }
        if (!conclusion.empty()) d["conclusion"] = conclusion;
        if (r.diagnoses.has_value() && !r.diagnoses.value->empty()) {
            d["conclusionCode"] = ojson::array();
            for (const std::string& dx : *r.diagnoses.value) {
                if (vocab.find_term(dx)) d["conclusionCode"].push_back(b.concept("terms", dx));
                else d["conclusionCode"].push_back({{"text", dx}});
            }
        }
    }
    if (!opt.pdf.empty()) {
        ojson pdf;
        pdf["contentType"] = "application/pdf";
        pdf["language"] = "en";
        pdf["data"] = base64_encode(opt.pdf);
        pdf["size"] = opt.pdf.size();
        pdf["title"] = procedure_name + " report, " + report_version_label(r);
        pdf["creation"] = fhir_time(opt.generated_at);
        d["presentedForm"] = ojson::array({pdf});
    }

    // Practitioner and Patient.
    ojson doc;
    doc["resourceType"] = "Practitioner";
    if (r.header.endoscopist.has_value()) doc["name"] = ojson::array({{{"text", *r.header.endoscopist.value}}});
    ojson pat;
    pat["resourceType"] = "Patient";
    pat["text"] = {{"status", "generated"},
                   {"div", "<div xmlns=\"http://www.w3.org/1999/xhtml\">Patient identity is not recorded in EndoScribe; "
                           "the receiving system links this report to its patient.</div>"}};

    // The Composition: one section per MST 3.0 section.
    ojson comp;
    comp["resourceType"] = "Composition";
    comp["identifier"] = {{"system", "urn:ietf:rfc:3986"}, {"value", "urn:uuid:" + uuid_for(b.key + "/composition-id")}};
    comp["status"] = final ? (r.version > 1 ? "amended" : "final") : "preliminary";
    comp["type"] = b.report_type();
    comp["subject"] = {{"reference", patient}};
    comp["date"] = signed_version && is_instant(fhir_time(signed_version->signed_at)) ? fhir_time(signed_version->signed_at)
                                                                                      : fhir_time(opt.generated_at);
    comp["author"] = ojson::array({{{"reference", practitioner}}});
    comp["title"] = procedure_name + " report (" + report_version_label(r) + ")";
    if (signed_version) {
        ojson att = {{"mode", "legal"}, {"party", {{"reference", practitioner}}}};
        if (is_instant(fhir_time(signed_version->signed_at))) att["time"] = fhir_time(signed_version->signed_at);
        comp["attester"] = ojson::array({att});
    }
    auto section = [&](const std::string& title, const std::string& code, const std::string& text, const ojson& entry) {
        ojson s;
        s["title"] = title;
        s["code"] = b.field_concept(code, title);
        s["text"] = {{"status", "generated"},
                     {"div", "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + xml_escape(text.empty() ? "Not recorded." : text) + "</div>"}};
        if (!entry.empty()) s["entry"] = entry;
        return s;
    };
    auto refs_of = [](const ojson& entries) {
        ojson a = ojson::array();
        for (const ojson& e : entries) a.push_back({{"reference", e["fullUrl"]}});
        return a;
    };
    comp["section"] = ojson::array();
    {
        std::string t = procedure_name;
        if (r.header.date.has_value()) t += ", " + *r.header.date.value;
        if (r.header.endoscopist.has_value()) t += ", endoscopist " + *r.header.endoscopist.value;
        comp["section"].push_back(section("Procedure", "section-procedure", t, ojson::array({{{"reference", procedure}}})));
    }
    comp["section"].push_back(section("Bowel preparation", "section-bowel-preparation",
                                      bbps_total(p) ? "BBPS " + std::to_string(*bbps_total(p)) + " of 9, " +
                                                          (*bbps_adequate(p) ? "adequate" : "inadequate")
                                                    : "",
                                      refs_of(prep_entries)));
    comp["section"].push_back(section("Findings", "section-findings",
                                      std::to_string(r.findings.size()) + (r.findings.size() == 1 ? " finding" : " findings"),
                                      refs_of(finding_entries)));
    comp["section"].push_back(section("Interventions", "section-interventions",
                                      std::to_string(r.interventions.size()) + (r.interventions.size() == 1 ? " intervention" : " interventions"),
                                      refs_of(intervention_entries)));
    comp["section"].push_back(section("Diagnoses and impression", "section-impression", d.value("conclusion", ""),
                                      ojson::array({{{"reference", dr}}})));
    if (!media_entries.empty())
        comp["section"].push_back(section("Key images", "section-images", std::to_string(media_entries.size()) + " images",
                                          refs_of(media_entries)));

    ojson bundle;
    bundle["resourceType"] = "Bundle";
    bundle["identifier"] = {{"system", "urn:ietf:rfc:3986"}, {"value", "urn:uuid:" + uuid_for(b.key + "/bundle-id")}};
    bundle["type"] = "document";
    bundle["timestamp"] = fhir_time(opt.generated_at);
    ojson entry = ojson::array();
    entry.push_back({{"fullUrl", composition}, {"resource", comp}});
    entry.push_back({{"fullUrl", dr}, {"resource", d}});
    entry.push_back({{"fullUrl", patient}, {"resource", pat}});
    entry.push_back({{"fullUrl", practitioner}, {"resource", doc}});
    entry.push_back({{"fullUrl", procedure}, {"resource", proc}});
    for (auto* list : {&intervention_entries, &finding_entries, &prep_entries, &media_entries})
        for (ojson& e : *list) entry.push_back(std::move(e));
    bundle["entry"] = std::move(entry);
    out.json = bundle.dump(1);
    out.ok = true;
    return out;
}

}  // namespace es

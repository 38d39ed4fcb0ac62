// compare_ui.h: the side panel's Compare tab (issue 13, item 7). Two
// comparisons of the open case, computed by the core (src/metrics):
//  - the case's annotations against the model's outputs: the Classify results,
//    the boxes in assistant answers (and accepted AI boxes), Segment masks
//    (es::compare_with_model);
//  - annotator A (the open case) against annotator B (another version of the
//    same case, read from a COCO export or case bundle with
//    es::read_annotation_version; the open case is not changed):
//    es::annotation_agreement.
// The model's classifications and answer boxes are what the assistant showed
// (its snapshot, assistant_ui.h), per image. They and B are saved with the
// case as they change (es::CompareWork, src/case/compare_work.h: the JS case
// session is told through Module.annotation.action("compare_changed") and
// stores es_compare_work()) and restored with it (es_compare_load_work).
// Figures are recomputed when the annotations, B or the model outputs change,
// and export as JSON through the app's download path.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "annotation/annotation.h"
#include "annotation/geometry.h"
#include "metrics/annotation_agreement.h"
#include "metrics/model_comparison.h"

namespace esui {

class App;

struct CompareUi {
    // Annotator B.
    bool has_second = false;
    std::string second_name, second_kind;  // file name; "COCO file" / "case bundle" / ...
    std::vector<es::ImageAnnotations> second;

    // The model's outputs seen in this session, per image name (of the open case).
    std::map<std::string, es::ImageModelOutputs> outputs;
    int outputs_version = 0;

    // Figures (recomputed when `signature` changes).
    std::string signature;
    es::ModelComparison model;
    es::AnnotationAgreement agreement;
    bool agreement_ready = false;

    // Selected agreement row (image, label): both versions' outlines on the viewer.
    int selected = -1;
    std::string outline_image;
    std::vector<es::Polygon> outline_a, outline_b;

    std::string last_error;
    std::map<std::string, std::string> shown;  // figures as drawn this frame (test hook)

    // Reads B; false with a message shown when the file is not a version of a case.
    bool import_second(App& a, const std::string& text, const std::string& name);
    void clear_second();
    // The work to save with the case, and back (false: `last_error` says why, nothing changes).
    std::string work_json() const;
    bool load_work(const std::string& text);
    void clear_work();  // another case: no outputs, no B
    void forget_second();  // no B, without telling the page (clear_second tells it)
    void reset_view();     // the selection and what was drawn from it, after A or B changed
    // Tells the case session the work changed (it saves it); B's changes are
    // the user's own acts on the case (a read-only demo case is copied for them).
    void changed(bool user_act) const;
    // Records what the assistant snapshot shows for its image (classification, answer boxes).
    void observe_assistant(const App& a, const nlohmann::json& state);
    void refresh(App& a);
    void select_region(App& a, int index);  // -1: none; shows the row's image
    void update_outlines();
    nlohmann::json figures(const App& a) const;  // the export (and the test hook)
};

CompareUi& compare_ui();

void draw_compare_tab(App& a);  // panel_compare.cpp

}  // namespace esui

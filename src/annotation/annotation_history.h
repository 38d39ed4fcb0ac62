// annotation_history.h: every change to a case's annotations is a command
// that can be undone and redone (add, remove, modify — which covers move,
// resize, relabel, visibility, opacity, mask edits — and batches of these).
// Commands store whole before/after annotations: simple and exact.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"

namespace es {

struct AnnotationCommand {
    enum class Type { Add, Remove, Modify, Batch };
    Type type = Type::Add;
    std::string image;            // ImageAnnotations::image
    Annotation before, after;     // Add: after; Remove: before; Modify: both
    int index = -1;               // position in the list (Add/Remove), for exact undo
    std::string description;      // for the UI ("Move box 3")
    std::vector<AnnotationCommand> children;  // Batch
    // This command's saved form (AnnotationHistory::to_json), kept so a save
    // after each change encodes only the new step's masks; emptied whenever
    // the command is executed (undo/redo update its index and contents).
    mutable std::string saved_form;

    static AnnotationCommand add(const std::string& image, Annotation a, std::string description = "Add");
    static AnnotationCommand remove(const std::string& image, const Annotation& a, std::string description = "Delete");
    static AnnotationCommand modify(const std::string& image, const Annotation& before, Annotation after,
                                    std::string description = "Edit");
    static AnnotationCommand batch(std::vector<AnnotationCommand> children, std::string description);
};

class AnnotationHistory {
public:
    explicit AnnotationHistory(size_t max_steps = 500) : max_steps_(max_steps) {}

    // Applies a command to `images` and records it (clearing redo). Fails,
    // changing nothing, when it does not fit the current state (unknown image
    // or id, duplicate id on add).
    bool apply(std::vector<ImageAnnotations>& images, AnnotationCommand cmd, std::string* error = nullptr);
    bool undo(std::vector<ImageAnnotations>& images, std::string* error = nullptr);
    bool redo(std::vector<ImageAnnotations>& images, std::string* error = nullptr);

    bool can_undo() const { return !done_.empty(); }
    bool can_redo() const { return !undone_.empty(); }
    const std::string& undo_description() const;
    const std::string& redo_description() const;
    size_t undo_steps() const { return done_.size(); }
    size_t redo_steps() const { return undone_.size(); }
    void clear() { done_.clear(); undone_.clear(); }

    // Saved form, so undo survives a reload: {"format":"endoscribe-history",
    // "version":1,"done":[command],"undone":[command]} with whole annotations
    // (masks as COCO compressed RLE). Only the steps nearest the present are
    // written: at most `max_steps` undo steps (and as many redo steps), and no
    // more than `max_mask_pixels` mask pixels in all, so saving and loading
    // stay fast after long brush sessions.
    std::string to_json(size_t max_steps = 200, uint64_t max_mask_pixels = uint64_t(64) << 20) const;
    // Replaces the history; all or nothing (on error the history is unchanged
    // and `error` names the problem). It must be loaded together with the
    // annotations it was saved with, or undo reports that it does not fit.
    bool from_json(const std::string& json, std::string* error = nullptr);

private:
    size_t max_steps_;
    std::vector<AnnotationCommand> done_, undone_;
};

// Applies (forward) or reverts (backward) one command; no history involved.
bool execute_command(std::vector<ImageAnnotations>& images, AnnotationCommand& cmd, bool forward, std::string* error);

}  // namespace es

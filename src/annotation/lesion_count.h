// lesion_count.h: lesions on an image as a clinician counts them: one per
// annotation whose label is a lesion label ("lesion": true in its label set:
// polyps, ulcers, erosions, neoplasia...), whatever its shape (box, polygon,
// point, mask). Pixels are not counted: a mask's specks are not lesions, and a
// box is a lesion as much as a mask is. A mask (or polygon) with several
// separate parts is still one annotation, so one lesion; mask_parts says how
// many parts it has so the UI can point it out.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "annotation/label_set.h"

namespace es {

// True when any of the sets defines `label` with the lesion flag.
bool is_lesion_label(const std::vector<LabelSet>& sets, const std::string& label);

// Visible or not, every lesion-labelled annotation of the image counts once.
int count_lesions(const ImageAnnotations& img, const std::vector<LabelSet>& sets);

// Separate parts (8-connected regions of at least min_area pixels) of a mask
// or polygon annotation; 1 for the other kinds, 0 for an empty mask.
int annotation_parts(const Annotation& a, int width, int height, size_t min_area);

}  // namespace es

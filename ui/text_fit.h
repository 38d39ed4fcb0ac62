// text_fit.h: names (files, cases, labels, models) shortened to the space they
// have, with the full text in a tooltip. The middle is cut ("very_lo...0042.jpg")
// because the end of a name (number, extension) is often what tells two apart.
#pragma once
#include <string>

namespace esui {

// `text` shortened with "..." in the middle to at most `max_width` CSS px
// (in the current font); unchanged if it fits. Never cuts a UTF-8 character.
std::string ellipsize(const char* text, float max_width);

// Draws `text` as one line shortened to `max_width` (<= 0: the rest of the
// line); when it was shortened, hovering shows the full text. Returns whether
// it was shortened.
bool text_ellipsized(const char* text, float max_width = 0.0f, bool disabled = false);

// For any item that showed `shown` in place of `full` (a button, a combo
// preview, a selectable): the full text as a tooltip when hovered and shortened.
void tooltip_if_shortened(const char* full, const std::string& shown);

}  // namespace esui

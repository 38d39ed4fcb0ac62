#include <gtest/gtest.h>

#include "assistant/prompt_lookup.h"

using namespace es;

TEST(PromptLookup, NoEarlierOccurrenceGivesNoDraft) {
    EXPECT_TRUE(prompt_lookup_draft({1, 2, 3, 4, 5}, {}).empty());
    EXPECT_TRUE(prompt_lookup_draft({}, {}).empty());
    EXPECT_TRUE(prompt_lookup_draft({7}, {}).empty());
    // A one-token tail is not looked up by default (min_ngram 2).
    EXPECT_TRUE(prompt_lookup_draft({9, 1, 2, 9}, {}).empty());
}

TEST(PromptLookup, ProposesWhatFollowedTheTail) {
    // "... 5 6 | 7 8 9 ... 5 6" -> 7 8 9 and what came after, up to max_draft.
    PromptLookupConfig c;
    c.max_draft = 3;
    EXPECT_EQ(prompt_lookup_draft({1, 5, 6, 7, 8, 9, 10, 2, 5, 6}, c), (std::vector<int>{7, 8, 9}));
    c.max_draft = 10;  // never past the end of the conversation
    EXPECT_EQ(prompt_lookup_draft({1, 5, 6, 7, 8, 2, 5, 6}, c), (std::vector<int>{7, 8, 2, 5, 6}));
}

TEST(PromptLookup, LongestTailWinsThenMostRecentOccurrence) {
    PromptLookupConfig c;
    c.max_draft = 2;
    // Tail 4 5 6: "5 6" occurs late (followed by 20), "4 5 6" early (followed by 10): the longer match wins.
    EXPECT_EQ(prompt_lookup_draft({4, 5, 6, 10, 11, 0, 5, 6, 20, 21, 4, 5, 6}, c), (std::vector<int>{10, 11}));
    // Two occurrences of the same tail: the nearer one.
    EXPECT_EQ(prompt_lookup_draft({5, 6, 10, 11, 5, 6, 20, 21, 5, 6}, c), (std::vector<int>{20, 21}));
    // A one-token tail when allowed.
    c.min_ngram = 1;
    EXPECT_EQ(prompt_lookup_draft({9, 1, 2, 9}, c), (std::vector<int>{1, 2}));
}

TEST(PromptLookup, RepetitionProposesTheRepeat) {
    PromptLookupConfig c;
    c.max_draft = 4;
    EXPECT_EQ(prompt_lookup_draft({3, 7, 7, 7, 7}, c), (std::vector<int>{7}));
    EXPECT_EQ(prompt_lookup_draft({1, 2, 1, 2, 1, 2}, c), (std::vector<int>{1, 2}));
    // Inside a longer run the most recent occurrence proposes one token; an earlier one proposes max_draft.
    EXPECT_EQ(prompt_lookup_draft({7, 7, 7, 7, 7, 7, 7, 7}, c), (std::vector<int>{7, 7, 7, 7}));
    EXPECT_EQ(prompt_lookup_draft({1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, c), (std::vector<int>{1, 2, 3, 1}));
}

TEST(PromptLookup, NeverDraftsImageSlotsOrMarkers) {
    PromptLookupConfig c;
    c.max_draft = 5;
    // After "5 6" came 7 then the image token 99: the draft stops before it.
    EXPECT_EQ(prompt_lookup_draft({5, 6, 7, 99, 99, 8, 5, 6}, c, {99}), (std::vector<int>{7}));
    // An occurrence whose continuation starts with a never id is skipped for an older one.
    EXPECT_EQ(prompt_lookup_draft({5, 6, 3, 4, 5, 6, 99, 5, 6}, c, {99}), (std::vector<int>{3, 4, 5, 6}));
    c.max_draft = 0;
    EXPECT_TRUE(prompt_lookup_draft({5, 6, 7, 5, 6}, c).empty());
}

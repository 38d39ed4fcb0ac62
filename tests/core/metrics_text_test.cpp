// ROUGE against published reference values, since no ROUGE implementation is
// packaged in Debian bookworm or in our npm lock: the worked examples of Google's
// rouge_score test suite (rouge/rouge_scorer_test.py, Apache-2.0), whose
// "against ROUGE-1.5.5" values were taken from runs of the original Perl
// ROUGE-1.5.5. The two sentence pairs are that suite's test data
// (rouge/testdata/target.txt and prediction.txt, lines 1 and 2: random
// strings with punctuation, which also exercise the tokenizer).
#include <gtest/gtest.h>

#include "metrics/rouge.h"

namespace {

const char* kTarget[2] = {
    R"(ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L)",
    R"(KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN)"};
const char* kPrediction[2] = {
    R"(rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi)",
    R"(n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD)"};

// {recall, precision, F} to 5 decimals, as published.
struct Published {
    double r, p, f;
};
const Published kRouge1[2] = {{0.40741, 0.68750, 0.51163}, {0.40476, 0.65385, 0.50000}};
const Published kRouge2[2] = {{0.30769, 0.53333, 0.39024}, {0.29268, 0.48000, 0.36364}};
const Published kRougeL[2] = {{0.40741, 0.68750, 0.51163}, {0.40476, 0.65385, 0.50000}};

void expect(const es::RougeScore& s, const Published& want, const char* what, int line) {
    EXPECT_NEAR(s.recall, want.r, 5e-6) << what << " line " << line;
    EXPECT_NEAR(s.precision, want.p, 5e-6) << what << " line " << line;
    EXPECT_NEAR(s.f, want.f, 5e-6) << what << " line " << line;
}

TEST(MetricsRouge, AgreesWithPublishedRouge155Values) {
    for (int i = 0; i < 2; ++i) {
        const es::RougeScores s = es::rouge_scores({kTarget[i]}, kPrediction[i]);
        expect(s.rouge1, kRouge1[i], "ROUGE-1", i + 1);
        expect(s.rouge2, kRouge2[i], "ROUGE-2", i + 1);
        expect(s.rougeL, kRougeL[i], "ROUGE-L", i + 1);
    }
}

TEST(MetricsRouge, RougeScoreSuiteSmallCases) {
    // score(target, prediction) in rouge_score's argument order.
    es::RougeScores s = es::rouge_scores({"testing one two"}, "testing");
    EXPECT_DOUBLE_EQ(s.rouge1.precision, 1.0);
    EXPECT_DOUBLE_EQ(s.rouge1.recall, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.rouge1.f, 0.5);
    s = es::rouge_scores({"testing one two"}, "");
    EXPECT_EQ(s.rouge1.f, 0.0);
    EXPECT_EQ(s.rouge2.f, 0.0);
    EXPECT_EQ(s.rougeL.f, 0.0);
    s = es::rouge_scores({"testing one two"}, "testing one");
    EXPECT_DOUBLE_EQ(s.rouge2.precision, 1.0);
    EXPECT_DOUBLE_EQ(s.rouge2.recall, 0.5);
    EXPECT_DOUBLE_EQ(s.rouge2.f, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.rougeL.f, 0.8);
    s = es::rouge_scores({"testing one two"}, "testing two");  // not consecutive: still an LCS of 2
    EXPECT_DOUBLE_EQ(s.rougeL.recall, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.rougeL.f, 0.8);
}

}  // namespace

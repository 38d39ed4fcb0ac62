#include "annotation/label_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace es;

static std::string read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

static LabelSet load(const std::string& name) {
    LabelSetLoad r = parse_label_set(read(std::string(ES_SOURCE_DIR) + "/models/labels/" + name));
    EXPECT_TRUE(r.ok) << name << ": " << r.error;
    return r.set;
}

TEST(LabelSet, EveryShippedSetIsValidAndRoundTrips) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::string(ES_SOURCE_DIR) + "/models/labels")) {
        if (e.path().extension() != ".json") continue;
        LabelSetLoad r = parse_label_set(read(e.path().string()));
        ASSERT_TRUE(r.ok) << e.path() << ": " << r.error;
        LabelSetLoad again = parse_label_set(label_set_to_json(r.set));
        ASSERT_TRUE(again.ok) << again.error;
        EXPECT_EQ(label_set_to_json(again.set), label_set_to_json(r.set));
        ++n;
    }
    EXPECT_GE(n, 5);
}

TEST(LabelSet, HyperKvasirHasTheOfficial23Classes) {
    LabelSet s = load("hyperkvasir.json");
    ASSERT_EQ(s.labels.size(), 23u);
    int64_t total = 0;
    std::map<std::string, int> by_organ, by_category;
    for (const LabelDef& l : s.labels) {
        total += l.count;
        by_organ[l.groups.at("organ")]++;
        by_category[l.groups.at("category")]++;
    }
    EXPECT_EQ(total, 10662);  // labelled images in HyperKvasir
    EXPECT_EQ(by_organ["upper-gi"], 7);
    EXPECT_EQ(by_organ["lower-gi"], 16);
    EXPECT_EQ(by_category["anatomical-landmarks"], 6);
    EXPECT_EQ(by_category["pathological-findings"], 12);
    EXPECT_EQ(by_category["quality-of-mucosal-views"], 3);
    EXPECT_EQ(by_category["therapeutic-interventions"], 2);
    ASSERT_NE(s.find_label("polyps"), nullptr);
    EXPECT_EQ(s.find_label("polyps")->count, 1028);
}

TEST(LabelSet, UpperGiHasThreeLevels) {
    LabelSet s = load("upper_gi_three_level.json");
    EXPECT_EQ(s.label_path("duodenal-bulb"), (std::vector<std::string>{"anatomical-structure", "duodenum", "duodenal-bulb"}));
    EXPECT_EQ(s.label_path("gastric-ulcer"), (std::vector<std::string>{"pathological-finding", "gastric-disease", "gastric-ulcer"}));
    EXPECT_EQ(s.label_path("negative").size(), 1u);
    for (const char* top : {"negative", "anatomical-structure", "pathological-finding"}) EXPECT_TRUE(s.find_label(top));
    for (const char* g : {"esophagus", "stomach", "duodenum"}) EXPECT_FALSE(s.children(g).empty()) << g;
    for (const char* g : {"esophageal-disease", "gastric-disease", "duodenal-disease"}) EXPECT_FALSE(s.children(g).empty()) << g;
    for (const LabelDef& l : s.labels) EXPECT_LE(s.label_path(l.id).size(), 3u);
}

TEST(LabelSet, ScoresAndAttributes) {
    LabelSet bbps = load("boston_bowel_preparation_scale.json");
    ASSERT_EQ(bbps.attributes.size(), 3u);
    for (const AttributeDef& a : bbps.attributes) {
        ASSERT_EQ(a.options.size(), 4u);
        EXPECT_EQ(a.options.front().id, "0");
        EXPECT_EQ(a.options.back().id, "3");
    }
    LabelSet mayo = load("mayo_endoscopic_score.json");
    EXPECT_EQ(mayo.labels.size(), 4u);
    LabelSet polyp = load("polyp_attributes.json");
    const AttributeDef* paris = polyp.find_attribute("paris");
    ASSERT_NE(paris, nullptr);
    EXPECT_GE(paris->options.size(), 7u);
    const AttributeDef* size = polyp.find_attribute("size-mm");
    ASSERT_NE(size, nullptr);
    EXPECT_EQ(size->unit, "mm");
    EXPECT_TRUE(polyp.find_attribute("location"));
}

TEST(LabelSet, InvalidSetsAreRejected) {
    auto err = [](const std::string& text) {
        LabelSetLoad r = parse_label_set(text);
        EXPECT_FALSE(r.ok) << text;
        return r.error;
    };
    EXPECT_NE(err("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(err("[]").find("object"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X"})").find("no labels"), std::string::npos);
    EXPECT_NE(err(R"({"id": "Bad Id", "name": "X", "labels": [{"id": "a", "name": "A"}]})").find("id must be"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "labels": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]})").find("duplicate"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "labels": [{"id": "a", "name": "A", "parent": "b"}]})").find("unknown parent"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "labels": [{"id": "a", "name": "A", "parent": "b"}, {"id": "b", "name": "B", "parent": "a"}]})").find("cycle"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "labels": [{"id": "a", "name": "A", "color": "red"}]})").find("#rrggbb"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "labels": [{"id": "a", "name": "A", "groups": {"organ": "x"}}]})").find("unknown dimension"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "labels": [{"id": "a", "name": "A", "count": -3}]})").find("count"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "attributes": [{"id": "s", "name": "S", "type": "enum"}]})").find("without options"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "attributes": [{"id": "s", "name": "S", "type": "number", "min": 5, "max": 1}]})").find("min > max"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "attributes": [{"id": "s", "name": "S", "type": "colour"}]})").find("unknown type"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": "X", "attributes": [{"id": "s", "name": "S", "type": "text", "applies_to": ["p"]}]})").find("unknown label"), std::string::npos);
    EXPECT_NE(err(R"({"id": "x", "name": 5, "labels": []})").find("must be a string"), std::string::npos);
    EXPECT_NE(err(R"({"format": "other", "id": "x", "name": "X", "labels": [{"id": "a", "name": "A"}]})").find("format"), std::string::npos);
}

TEST(LabelSet, UserLabelsAndSets) {
    LabelSet s = load("hyperkvasir.json");
    std::string e;
    LabelDef mine;
    mine.id = "lipoma";
    mine.name = "Lipoma";
    mine.groups = {{"organ", "lower-gi"}, {"category", "pathological-findings"}};
    ASSERT_TRUE(add_user_label(s, mine, &e)) << e;
    EXPECT_TRUE(s.find_label("lipoma")->user_added);
    EXPECT_FALSE(add_user_label(s, mine, &e));  // duplicate
    LabelDef broken;
    broken.id = "x";
    broken.name = "X";
    broken.parent = "nope";
    size_t before = s.labels.size();
    EXPECT_FALSE(add_user_label(s, broken, &e));
    EXPECT_EQ(s.labels.size(), before);  // unchanged on failure
    EXPECT_FALSE(remove_user_label(s, "polyps", &e));  // shipped labels stay
    EXPECT_TRUE(remove_user_label(s, "lipoma", &e));
    // A user's own set survives saving and loading.
    LabelSet u = make_user_label_set("my-study", "My study");
    LabelDef a;
    a.id = "finding-a";
    a.name = "Finding A";
    a.color = "#123abc";
    ASSERT_TRUE(add_user_label(u, a, &e)) << e;
    LabelSetLoad back = parse_label_set(label_set_to_json(u));
    ASSERT_TRUE(back.ok) << back.error;
    EXPECT_TRUE(back.set.user);
    EXPECT_TRUE(back.set.find_label("finding-a")->user_added);
}

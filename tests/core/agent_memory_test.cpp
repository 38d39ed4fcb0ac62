#include <gtest/gtest.h>

#include "agent/agent_memory.h"

using namespace es;

TEST(AgentMemory, AddEditDisableRemove) {
    AgentMemory m;
    std::string error;
    uint64_t a = 0, b = 0;
    ASSERT_TRUE(m.add("  Check small flat lesions twice.  ", "2026-11-30T08:00:00Z", "case 1", &a, &error)) << error;
    ASSERT_TRUE(m.add("Bubbles are not polyps.", "2026-11-30T08:05:00Z", "", &b, &error)) << error;
    EXPECT_EQ(m.entries().size(), 2u);
    EXPECT_EQ(m.find(a)->text, "Check small flat lesions twice.");
    EXPECT_FALSE(m.add(" \n ", "", "", nullptr, &error));
    EXPECT_NE(error.find("empty"), std::string::npos);
    EXPECT_FALSE(m.add(std::string(1001, 'x'), "", "", nullptr, &error));
    EXPECT_NE(error.find("1000"), std::string::npos);
    EXPECT_FALSE(m.add("bad \xC3\x28 bytes", "", "", nullptr, &error));
    EXPECT_NE(error.find("UTF-8"), std::string::npos);
    ASSERT_TRUE(m.edit(a, "Check small flat lesions twice, with NBI.", &error));
    EXPECT_FALSE(m.edit(999, "x", &error));
    EXPECT_EQ(m.for_prompt(1000), "- Bubbles are not polyps.\n- Check small flat lesions twice, with NBI.\n");
    EXPECT_EQ(m.for_prompt(30), "- Bubbles are not polyps.\n");  // the budget keeps the most recent
    EXPECT_TRUE(m.set_enabled(b, false));
    EXPECT_EQ(m.for_prompt(1000), "- Check small flat lesions twice, with NBI.\n");
    EXPECT_TRUE(m.remove(a));
    EXPECT_FALSE(m.remove(a));
    uint64_t c = 0;
    ASSERT_TRUE(m.add("New.", "", "", &c, &error));
    EXPECT_EQ(c, 3u);  // ids are never reused
}

TEST(AgentMemory, SaveAndLoadRoundTrip) {
    AgentMemory m;
    std::string error;
    uint64_t id = 0;
    ASSERT_TRUE(m.add("Erst die Übersicht, dann Details. €", "2026-11-30T08:00:00Z", "img1.jpg", &id, &error));
    ASSERT_TRUE(m.add("Second.", "2026-11-30T08:01:00Z", "", nullptr, &error));
    m.set_enabled(id, false);
    m.remove(2);
    ASSERT_TRUE(m.add("Third.", "2026-11-30T08:02:00Z", "", nullptr, &error));
    const std::string saved = m.to_json().dump();

    AgentMemory back;
    std::vector<std::string> skipped;
    ASSERT_TRUE(back.from_json(saved, &error, &skipped)) << error;
    EXPECT_TRUE(skipped.empty());
    EXPECT_EQ(back.entries(), m.entries());
    EXPECT_EQ(back.to_json(), m.to_json());
    uint64_t next = 0;
    ASSERT_TRUE(back.add("Fourth.", "", "", &next, &error));
    EXPECT_EQ(next, 4u);
}

TEST(AgentMemory, BadFilesAreRefusedAndLoseNothing) {
    AgentMemory m;
    std::string error;
    ASSERT_TRUE(m.add("Keep me.", "", "", nullptr, &error));
    const auto before = m.entries();
    std::vector<std::string> skipped;
    EXPECT_FALSE(m.from_json("{\"entries\": [", &error, &skipped));
    EXPECT_NE(error.find("damaged"), std::string::npos) << error;
    EXPECT_NE(error.find("unchanged"), std::string::npos) << error;
    EXPECT_FALSE(m.from_json("[1,2,3]", &error, &skipped));
    EXPECT_NE(error.find("not a saved agent memory"), std::string::npos) << error;
    EXPECT_FALSE(m.from_json(std::string(200, '[') + std::string(200, ']'), &error, &skipped));
    EXPECT_NE(error.find("nested too deeply"), std::string::npos) << error;
    EXPECT_EQ(m.entries(), before);

    // Single bad entries are left out, and said so.
    ASSERT_TRUE(m.from_json(R"({"entries":[{"id":1,"text":"ok"},{"id":1,"text":"twice"},{"text":"no id"},{"id":5,"text":""},7]})",
                            &error, &skipped));
    ASSERT_EQ(m.entries().size(), 1u);
    EXPECT_EQ(m.entries()[0].text, "ok");
    ASSERT_EQ(skipped.size(), 4u);
    EXPECT_EQ(skipped[0], "entry 2: its id is used twice; it was left out.");
    EXPECT_NE(skipped[1].find("entry 3: it has no id"), std::string::npos);
    EXPECT_NE(skipped[2].find("entry 4: The reflection is empty"), std::string::npos);
}

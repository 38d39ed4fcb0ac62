// agent_memory.h: the agent's long-term memory: reflections written after
// earlier runs ("on small flat lesions, ground with 'flat polyp' first"),
// persisted as JSON with the user's settings, listed and editable by the
// clinician, and put into the planning prompt (the most recent first, within
// a character budget so the prompt stays bounded).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace es {

struct MemoryEntry {
    uint64_t id = 0;          // unique, never reused
    std::string text;         // the reflection (1..1000 characters once trimmed)
    std::string created_at;   // ISO-8601 UTC (the host's clock)
    std::string source;       // the run it came from (image key or trace name), "" when typed by hand
    bool enabled = true;      // false: kept but not used in prompts
    bool operator==(const MemoryEntry& o) const;
};

class AgentMemory {
public:
    static constexpr size_t kMaxEntries = 500;
    static constexpr size_t kMaxText = 1000;

    // Adds an entry; false + plain words when the text is empty or too long or
    // the memory is full. Returns the new id in *id.
    bool add(const std::string& text, const std::string& created_at, const std::string& source, uint64_t* id,
             std::string* error);
    bool edit(uint64_t id, const std::string& text, std::string* error);
    bool set_enabled(uint64_t id, bool enabled);
    bool remove(uint64_t id);
    const std::vector<MemoryEntry>& entries() const { return entries_; }
    const MemoryEntry* find(uint64_t id) const;

    // The enabled entries, most recent first, as "- text" lines, stopping
    // before max_chars would be exceeded.
    std::string for_prompt(size_t max_chars) const;

    // {"version":1,"next_id":N,"entries":[{id,text,created_at,source,enabled}]}
    nlohmann::json to_json() const;
    // Reads a saved memory; a bad file is refused as a whole with plain words
    // (the memory is left as it was, so nothing is lost); single bad entries
    // are skipped and listed in *skipped.
    bool from_json(const std::string& text, std::string* error, std::vector<std::string>* skipped);

private:
    std::vector<MemoryEntry> entries_;
    uint64_t next_id_ = 1;
};

}  // namespace es

#include "agent/agent_memory.h"

#include <algorithm>

#include "json/json_syntax.h"

namespace es {

using json = nlohmann::json;

namespace {

std::string trimmed(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return "";
    const size_t b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

bool check_text(const std::string& text, std::string* error) {
    if (text.empty()) {
        if (error) *error = "The reflection is empty: write what the agent should remember.";
        return false;
    }
    if (text.size() > AgentMemory::kMaxText) {
        if (error) *error = "The reflection is longer than 1000 characters: shorten it.";
        return false;
    }
    try {
        (void)json(text).dump();  // strict: throws on invalid UTF-8
    } catch (const json::exception&) {
        if (error) *error = "The reflection is not valid UTF-8 text.";
        return false;
    }
    return true;
}

}  // namespace

bool MemoryEntry::operator==(const MemoryEntry& o) const {
    return id == o.id && text == o.text && created_at == o.created_at && source == o.source && enabled == o.enabled;
}

bool AgentMemory::add(const std::string& text_in, const std::string& created_at, const std::string& source, uint64_t* id,
                      std::string* error) {
    const std::string text = trimmed(text_in);
    if (!check_text(text, error)) return false;
    if (entries_.size() >= kMaxEntries) {
        if (error) *error = "The memory holds 500 reflections already: delete some before adding more.";
        return false;
    }
    MemoryEntry e;
    e.id = next_id_++;
    e.text = text;
    e.created_at = created_at;
    e.source = source;
    entries_.push_back(e);
    if (id) *id = e.id;
    return true;
}

bool AgentMemory::edit(uint64_t id, const std::string& text_in, std::string* error) {
    const std::string text = trimmed(text_in);
    for (auto& e : entries_)
        if (e.id == id) {
            if (!check_text(text, error)) return false;
            e.text = text;
            return true;
        }
    if (error) *error = "That reflection is no longer in the memory.";
    return false;
}

bool AgentMemory::set_enabled(uint64_t id, bool enabled) {
    for (auto& e : entries_)
        if (e.id == id) {
            e.enabled = enabled;
            return true;
        }
    return false;
}

bool AgentMemory::remove(uint64_t id) {
    const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const MemoryEntry& e) { return e.id == id; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
}

const MemoryEntry* AgentMemory::find(uint64_t id) const {
    for (const auto& e : entries_)
        if (e.id == id) return &e;
    return nullptr;
}

std::string AgentMemory::for_prompt(size_t max_chars) const {
    std::string out;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (!it->enabled) continue;
        const std::string line = "- " + it->text + "\n";
        if (out.size() + line.size() > max_chars) break;
        out += line;
    }
    return out;
}

json AgentMemory::to_json() const {
    json entries = json::array();
    for (const auto& e : entries_)
        entries.push_back({{"id", e.id}, {"text", e.text}, {"created_at", e.created_at}, {"source", e.source}, {"enabled", e.enabled}});
    return {{"version", 1}, {"next_id", next_id_}, {"entries", entries}};
}

bool AgentMemory::from_json(const std::string& text, std::string* error, std::vector<std::string>* skipped) {
    if (text.size() > (8u << 20)) {
        if (error) *error = "The memory file is larger than 8 MB, so it was not read; the memory is unchanged.";
        return false;
    }
    if (json_nesting_depth(text, 17) > 16) {
        if (error) *error = "The memory file is nested too deeply to be a saved memory; the memory is unchanged.";
        return false;
    }
    const JsonSyntax syntax = check_json_syntax(text);
    if (!syntax.ok) {
        if (error) *error = "The memory file is damaged (" + syntax.describe() + "); the memory is unchanged.";
        return false;
    }
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array()) {
        if (error) *error = "The file is not a saved agent memory (it has no \"entries\" list); the memory is unchanged.";
        return false;
    }
    std::vector<MemoryEntry> entries;
    uint64_t next = 1;
    if (j.contains("next_id") && j["next_id"].is_number_unsigned()) next = j["next_id"].get<uint64_t>();
    size_t k = 0;
    for (const auto& e : j["entries"]) {
        ++k;
        auto skip = [&](const std::string& why) {
            if (skipped) skipped->push_back("entry " + std::to_string(k) + ": " + why + "; it was left out.");
        };
        if (!e.is_object() || !e.contains("id") || !e["id"].is_number_unsigned() || !e.contains("text") ||
            !e["text"].is_string()) {
            skip("it has no id or no text");
            continue;
        }
        MemoryEntry m;
        m.id = e["id"].get<uint64_t>();
        m.text = trimmed(e["text"].get<std::string>());
        std::string why;
        if (!check_text(m.text, &why)) {
            skip(why);
            continue;
        }
        if (std::any_of(entries.begin(), entries.end(), [&](const MemoryEntry& x) { return x.id == m.id; })) {
            skip("its id is used twice");
            continue;
        }
        if (entries.size() >= kMaxEntries) {
            skip("the memory holds at most 500 reflections");
            continue;
        }
        if (e.contains("created_at") && e["created_at"].is_string()) m.created_at = e["created_at"].get<std::string>();
        if (e.contains("source") && e["source"].is_string()) m.source = e["source"].get<std::string>();
        if (e.contains("enabled") && e["enabled"].is_boolean()) m.enabled = e["enabled"].get<bool>();
        next = std::max(next, m.id + 1);
        entries.push_back(std::move(m));
    }
    entries_ = std::move(entries);
    next_id_ = next;
    return true;
}

}  // namespace es

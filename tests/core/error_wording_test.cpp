// Error wording for people: malformed JSON (case.json, COCO, label sets) is
// reported by line and column in words, never with the JSON library's
// exception ids; the case reader gives a plain reason apart from the technical
// details; the image decoder a plain reason apart from the decoder's.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "annotation/coco.h"
#include "annotation/label_set.h"
#include "case/case.h"
#include "image/image.h"
#include "json/json_syntax.h"
#include "test_files.h"

namespace {

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// Line 3, column 5 is the '}' after a trailing comma.
const std::string kTrailingComma = "{\n  \"a\": 1,\n    }\n";

TEST(JsonSyntax, LineAndColumnOfTheOffendingCharacter) {
    es::JsonSyntax s = es::check_json_syntax(kTrailingComma);
    ASSERT_FALSE(s.ok);
    EXPECT_EQ(s.line, 3u);
    EXPECT_EQ(s.column, 5u);
    EXPECT_TRUE(has(s.reason, "unexpected '}'")) << s.reason;
    EXPECT_EQ(s.describe().rfind("not valid JSON at line 3, column 5: unexpected '}'", 0), 0u) << s.describe();
    EXPECT_FALSE(has(s.describe(), "json.exception")) << s.describe();
    EXPECT_FALSE(has(s.describe(), "syntax error while parsing")) << s.describe();
}

TEST(JsonSyntax, EmptyTruncatedAndValid) {
    es::JsonSyntax empty = es::check_json_syntax("");
    ASSERT_FALSE(empty.ok);
    EXPECT_EQ(empty.reason, "the text is empty");
    EXPECT_EQ(empty.line, 1u);
    es::JsonSyntax cut = es::check_json_syntax("{\"images\": [\n1,");
    ASSERT_FALSE(cut.ok);
    EXPECT_EQ(cut.line, 2u);
    EXPECT_TRUE(has(cut.reason, "end of input")) << cut.reason;
    es::JsonSyntax two = es::check_json_syntax("{} {}");
    EXPECT_FALSE(two.ok);  // one value only
    EXPECT_EQ(two.column, 4u);
    EXPECT_TRUE(es::check_json_syntax("{\"a\": [1, 2, {\"b\": null}]}").ok);
    EXPECT_EQ(es::check_json_syntax("[1]").describe(), "");
}

TEST(ErrorWording, CaseJsonSyntax) {
    es::CaseParseResult r = es::case_from_json(kTrailingComma);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.reason, "is not a valid case file");
    EXPECT_TRUE(has(r.error, "line 3, column 5")) << r.error;
    for (const std::string* s : {&r.reason, &r.error}) {
        EXPECT_FALSE(has(*s, "json.exception")) << *s;
        EXPECT_FALSE(has(*s, "parse_error")) << *s;
    }
}

TEST(ErrorWording, CaseFieldErrorsKeepThePlainReasonApart) {
    es::CaseParseResult r = es::case_from_json(
        R"({"format": "endoscribe-case", "version": 1, "images": [{"file": "../x.png", "width": 4, "height": 4}]})");
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.reason, "is not a valid case file");
    EXPECT_TRUE(has(r.error, "images[0]")) << r.error;  // the technical detail names the field
    EXPECT_FALSE(has(r.reason, "images[0]"));
    es::CaseParseResult newer = es::case_from_json(R"({"format": "endoscribe-case", "version": 7, "images": []})");
    ASSERT_FALSE(newer.ok);
    EXPECT_EQ(newer.reason, "was made by a newer version of EndoScribe");
    EXPECT_TRUE(has(newer.error, "version: 7 is newer")) << newer.error;
    es::CaseParseResult ok = es::case_from_json(R"({"format": "endoscribe-case", "version": 1, "images": []})");
    EXPECT_TRUE(ok.ok);
    EXPECT_TRUE(ok.reason.empty());
}

TEST(ErrorWording, CocoAndLabelSetSyntaxSayWhere) {
    es::CocoImport c = es::import_coco(kTrailingComma);
    ASSERT_FALSE(c.ok);
    EXPECT_TRUE(has(c.error, "line 3, column 5")) << c.error;
    EXPECT_FALSE(has(c.error, "json.exception")) << c.error;
    es::LabelSetLoad l = es::parse_label_set(kTrailingComma);
    ASSERT_FALSE(l.ok);
    EXPECT_TRUE(has(l.error, "line 3, column 5")) << l.error;
    EXPECT_FALSE(has(l.error, "json.exception")) << l.error;
}

TEST(ErrorWording, NoLibraryExceptionTextForWrongTypes) {
    // Values of unexpected types deep in otherwise valid files.
    const std::vector<std::string> coco = {
        R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3}], "categories": [{"id": 1, "name": 5}], "annotations": []})",
        R"({"images": [{"id": 1, "file_name": 7, "width": 4, "height": 3}], "annotations": []})",
    };
    for (const std::string& t : coco) {
        es::CocoImport r = es::import_coco(t);
        EXPECT_FALSE(r.ok) << t;
        EXPECT_FALSE(has(r.error, "json.exception")) << r.error;
        EXPECT_FALSE(r.error.empty());
    }
    es::LabelSetLoad l = es::parse_label_set(R"({"id": "x", "name": 5, "labels": [{"id": "a", "name": "A"}]})");
    EXPECT_FALSE(l.ok);
    EXPECT_FALSE(has(l.error, "json.exception")) << l.error;
}

TEST(ErrorWording, ImageDecodeReasons) {
    const uint8_t broken_jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x13, 0x37};
    es::DecodeResult r = es::decode_image(broken_jpeg, sizeof broken_jpeg);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.reason, "the file is damaged or not an image");
    EXPECT_FALSE(r.error.empty());
    EXPECT_NE(r.reason, r.error);  // the decoder's own words stay in the details

    const std::string text = "not an image at all";
    r = es::decode_image(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    EXPECT_EQ(r.reason, "the file is damaged or not an image");

    r = es::decode_image(nullptr, 0);
    EXPECT_EQ(r.reason, "the file is empty");

    // Real files cut short (an interrupted copy or download): said as such.
    for (const char* f : {"/tests/fuzz/corpus/decode_image/jpeg_420.jpg", "/tests/fixtures/tiny-gemma3/golden/image.png"}) {
        std::vector<uint8_t> bytes = es_test::read_bytes(std::string(ES_SOURCE_DIR) + f);
        ASSERT_GT(bytes.size(), 300u) << f;
        ASSERT_TRUE(es::decode_image(bytes.data(), bytes.size()).ok) << f;
        r = es::decode_image(bytes.data(), bytes.size() - 10);
        ASSERT_FALSE(r.ok) << f;
        EXPECT_EQ(r.reason, "the file is incomplete (cut short, for example by an interrupted copy or download)") << f;
        EXPECT_TRUE(has(r.error, "truncated")) << r.error;
    }

    const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
    r = es::decode_image(gif, sizeof gif);
    ASSERT_FALSE(r.ok);
    EXPECT_TRUE(has(r.reason, "GIF files are not supported")) << r.reason;
}

}  // namespace

// Tests for case.json (case.h): round trip, defaults, and validation errors
// that name the offending field.
#include <gtest/gtest.h>

#include "case/case.h"

namespace {

es::Case sample() {
    es::Case c;
    c.id = "c1";
    c.title = "Case one";
    c.description = "two images";
    c.procedure = "colonoscopy";
    es::CaseImage a;
    a.file = "a.png";
    a.width = 640;
    a.height = 512;
    a.title = "A";
    a.location = "rectum";
    es::Lesion l;
    l.id = "lesion-1";
    l.label = "polyp";
    l.mask = "masks/a-1.png";
    l.box = {10, 20, 110, 90};
    l.area = 5000;
    a.lesions.push_back(l);
    es::CaseImage b;
    b.file = "sub/b.jpg";
    b.width = 100;
    b.height = 80;
    b.title = "B";
    c.images = {a, b};
    return c;
}

std::string with_image(const std::string& image_json) {
    return R"({"format": "endoscribe-case", "version": 1, "images": [)" + image_json + "]}";
}

void expect_error(const std::string& json, const std::string& needle) {
    es::CaseParseResult r = es::case_from_json(json);
    EXPECT_FALSE(r.ok) << json;
    EXPECT_NE(r.error.find(needle), std::string::npos) << "json: " << json << "\nerror: " << r.error;
}

TEST(Case, RoundTrip) {
    es::Case c = sample();
    std::string json = es::case_to_json(c);
    es::CaseParseResult r = es::case_from_json(json);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.value.id, "c1");
    EXPECT_EQ(r.value.title, "Case one");
    ASSERT_EQ(r.value.images.size(), 2u);
    EXPECT_EQ(r.value.images[1].file, "sub/b.jpg");
    EXPECT_EQ(r.value.procedure, "colonoscopy");
    EXPECT_EQ(r.value.images[0].location, "rectum");
    EXPECT_EQ(r.value.images[1].location, "");
    ASSERT_EQ(r.value.images[0].lesions.size(), 1u);
    const es::Lesion& l = r.value.images[0].lesions[0];
    EXPECT_EQ(l.mask, "masks/a-1.png");
    EXPECT_EQ(l.box, (std::array<int, 4>{10, 20, 110, 90}));
    EXPECT_EQ(l.area, 5000);
    EXPECT_EQ(l.label, "polyp");
    EXPECT_EQ(es::case_to_json(r.value), json);  // stable bytes
}

TEST(Case, JsonHasDocumentedShape) {
    std::string json = es::case_to_json(sample());
    EXPECT_NE(json.find("\"format\": \"endoscribe-case\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"version\": 1"), std::string::npos);
    EXPECT_LT(json.find("\"format\""), json.find("\"images\""));  // fixed, readable key order
}

TEST(Case, OptionalFieldsGetDefaults) {
    es::CaseParseResult r = es::case_from_json(with_image(R"({"file": "x.png", "width": 10, "height": 10,
        "lesions": [{"box": [0, 0, 5, 5]}]})"));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.value.images[0].title, "x.png");
    EXPECT_EQ(r.value.images[0].location, "");
    EXPECT_EQ(r.value.images[0].lesions[0].id, "lesion-1");
    EXPECT_EQ(r.value.images[0].lesions[0].label, "lesion");
    EXPECT_EQ(r.value.images[0].lesions[0].area, 25);
}

TEST(Case, UnknownKeysAreIgnored) {
    EXPECT_TRUE(es::case_from_json(R"({"format": "endoscribe-case", "version": 1, "future": [1], "images": [
        {"file": "a.png", "width": 1, "height": 1, "annotations": {}}]})").ok);
}

TEST(Case, MalformedJsonSaysWhere) {
    expect_error("{\"format\": ", "not valid JSON");
    expect_error("", "not valid JSON");
    expect_error("{\"a\": 1,}", "line 1");
    expect_error("[]", "must be a JSON object");
}

TEST(Case, HeaderErrors) {
    expect_error(R"({"version": 1, "images": []})", "missing \"format\"");
    expect_error(R"({"format": "other", "version": 1, "images": []})", "case.format");
    expect_error(R"({"format": "endoscribe-case", "version": 2, "images": []})", "newer than this app");
    expect_error(R"({"format": "endoscribe-case", "version": "1", "images": []})", "case.version");
    expect_error(R"({"format": "endoscribe-case", "version": 1})", "\"images\" must be an array");
    expect_error(R"({"format": "endoscribe-case", "version": 1, "title": 5, "images": []})", "case.title");
}

TEST(Case, ImageErrorsNameTheField) {
    expect_error(with_image(R"({"width": 10, "height": 10})"), "images[0]: missing \"file\"");
    expect_error(with_image(R"({"file": "a.png", "width": 0, "height": 10})"), "images[0].width");
    expect_error(with_image(R"({"file": "a.png", "width": 10.5, "height": 10})"), "images[0].width");
    expect_error(with_image(R"({"file": "a.png", "width": 10, "height": -3})"), "images[0].height");
    expect_error(with_image(R"({"file": "a.png", "width": 10, "height": 99999999999999999999})"), "images[0].height");
    expect_error(with_image(R"({"file": "a.png", "width": 10, "height": 10, "lesions": {}})"), "images[0].lesions");
    expect_error(with_image(R"("a.png")"), "images[0]: must be an object");
}

TEST(Case, FilePathsStayInsideTheCaseFolder) {
    for (const char* bad : {"../x.png", "/etc/passwd", "a/../../x.png", "a\\\\b.png", "https://evil.example/x.png",
                            "./a.png", "a//b.png", ""}) {
        std::string json = with_image(std::string(R"({"file": ")") + bad + R"(", "width": 1, "height": 1})");
        EXPECT_FALSE(es::case_from_json(json).ok) << bad;
    }
    EXPECT_FALSE(es::is_safe_relative_path(".."));
    EXPECT_FALSE(es::is_safe_relative_path("a/"));
    EXPECT_TRUE(es::is_safe_relative_path("image-1.png"));
    EXPECT_TRUE(es::is_safe_relative_path("masks/image-1 lesion.png"));
    expect_error(with_image(R"({"file": "a.png", "width": 10, "height": 10, "lesions": [{"mask": "../m.png", "box": [0,0,1,1]}]})"),
                 "images[0].lesions[0].mask");
}

TEST(Case, LesionBoxesAreChecked) {
    auto lesion = [](const std::string& l) {
        return with_image(R"({"file": "a.png", "width": 640, "height": 512, "lesions": [)" + l + "]}");
    };
    expect_error(lesion(R"({"id": "x"})"), "images[0].lesions[0]: missing \"box\"");
    expect_error(lesion(R"({"box": [1, 2, 3]})"), "must be [x1, y1, x2, y2]");
    expect_error(lesion(R"({"box": [0, 0, 700, 10]})"), "images[0].lesions[0].box[2]: must be from 0 to 640");
    expect_error(lesion(R"({"box": [0, 0, 10, 513]})"), "box[3]");
    expect_error(lesion(R"({"box": [50, 0, 50, 10]})"), "x2 must be greater than x1");
    expect_error(lesion(R"({"box": [0, 9, 10, 3]})"), "y2 must be greater than y1");
    expect_error(lesion(R"({"box": [0, 0, 10, 10], "area": 101})"), "images[0].lesions[0].area");
    expect_error(lesion(R"({"id": "a", "box": [0, 0, 1, 1]}, {"id": "a", "box": [0, 0, 1, 1]})"), "duplicate id");
    EXPECT_TRUE(es::case_from_json(lesion(R"({"box": [0, 0, 640, 512], "area": 327680})")).ok);
}

}  // namespace

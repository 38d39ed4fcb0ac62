// chat_template.cpp: a small tree-walking Jinja2 interpreter for chat templates.
// Lexing follows Jinja's rules with trim_blocks and lstrip_blocks on, as
// transformers' apply_chat_template compiles templates.
#include "assistant/chat_template.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>
#include <vector>

namespace es {

using json = nlohmann::ordered_json;

namespace {

struct TemplateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---- values ---------------------------------------------------------------
// A json value, or "undefined", or a namespace() object shared by reference.
struct Value {
    json j;
    bool undefined = false;
    std::shared_ptr<json> ns;
    static Value undef() { Value v; v.undefined = true; return v; }
    Value() = default;
    Value(json x) : j(std::move(x)) {}
    const json& get() const { return ns ? *ns : j; }
};

bool truthy(const Value& v) {
    if (v.undefined) return false;
    const json& j = v.get();
    switch (j.type()) {
        case json::value_t::null: return false;
        case json::value_t::boolean: return j.get<bool>();
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return j.get<int64_t>() != 0;
        case json::value_t::number_float: return j.get<double>() != 0.0;
        case json::value_t::string: return !j.get_ref<const std::string&>().empty();
        case json::value_t::array:
        case json::value_t::object: return !j.empty();
        default: return false;
    }
}

std::string to_str(const Value& v) {
    if (v.undefined) return "";
    const json& j = v.get();
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return "None";
    if (j.is_boolean()) return j.get<bool>() ? "True" : "False";
    if (j.is_number_integer() || j.is_number_unsigned()) return std::to_string(j.get<int64_t>());
    if (j.is_number_float()) {
        double d = j.get<double>();
        if (std::floor(d) == d && std::fabs(d) < 1e15) {
            std::string s = std::to_string(int64_t(d));
            return s + ".0";
        }
        return j.dump();
    }
    return j.dump();
}

// ---- lexer for expressions --------------------------------------------------
enum class Tok { Name, String, Int, Float, Op, End };
struct Token {
    Tok type;
    std::string text;
};

std::vector<Token> lex_expr(const std::string& s, int line) {
    std::vector<Token> out;
    size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (isspace(static_cast<unsigned char>(c))) { ++i; continue; }
        if (isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t b = i;
            while (i < s.size() && (isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
            out.push_back({Tok::Name, s.substr(b, i - b)});
        } else if (isdigit(static_cast<unsigned char>(c))) {
            size_t b = i;
            bool is_float = false;
            while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
                if (s[i] == '.') {
                    if (i + 1 >= s.size() || !isdigit(static_cast<unsigned char>(s[i + 1]))) break;
                    is_float = true;
                }
                ++i;
            }
            out.push_back({is_float ? Tok::Float : Tok::Int, s.substr(b, i - b)});
        } else if (c == '\'' || c == '"') {
            std::string v;
            ++i;
            while (i < s.size() && s[i] != c) {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    char e = s[++i];
                    switch (e) {
                        case 'n': v += '\n'; break;
                        case 't': v += '\t'; break;
                        case 'r': v += '\r'; break;
                        case '\\': v += '\\'; break;
                        case '\'': v += '\''; break;
                        case '"': v += '"'; break;
                        default: v += '\\'; v += e;
                    }
                    ++i;
                } else {
                    v += s[i++];
                }
            }
            if (i >= s.size()) throw TemplateError("line " + std::to_string(line) + ": unterminated string");
            ++i;
            out.push_back({Tok::String, v});
        } else {
            static const char* ops[] = {"//", "**", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ".", ",",
                                        ":", "|", "~", "+", "-", "*", "/", "%", "<", ">", "="};
            bool found = false;
            for (const char* op : ops) {
                size_t n = strlen(op);
                if (s.compare(i, n, op) == 0) {
                    out.push_back({Tok::Op, op});
                    i += n;
                    found = true;
                    break;
                }
            }
            if (!found)
                throw TemplateError("line " + std::to_string(line) + ": unexpected character '" + std::string(1, c) + "'");
        }
    }
    out.push_back({Tok::End, ""});
    return out;
}

// ---- expression tree ----------------------------------------------------------
struct Scope;
struct Expr {
    int line = 0;
    virtual ~Expr() = default;
    virtual Value eval(Scope& s) const = 0;
};
using ExprP = std::shared_ptr<Expr>;

struct Scope {
    std::vector<std::map<std::string, Value>> frames;
    int64_t iterations = 0;  // all loops together; a chat needs a few hundred
    Value lookup(const std::string& name) const {
        for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
            auto f = it->find(name);
            if (f != it->end()) return f->second;
        }
        return Value::undef();
    }
    void set(const std::string& name, Value v) { frames.back()[name] = std::move(v); }
};

[[noreturn]] void fail(int line, const std::string& msg) {
    throw TemplateError("line " + std::to_string(line) + ": " + msg);
}

struct Literal : Expr {
    Value v;
    Value eval(Scope&) const override { return v; }
};
struct Var : Expr {
    std::string name;
    Value eval(Scope& s) const override { return s.lookup(name); }
};
struct ListExpr : Expr {
    std::vector<ExprP> items;
    Value eval(Scope& s) const override {
        json a = json::array();
        for (auto& e : items) a.push_back(e->eval(s).get());
        return a;
    }
};
struct DictExpr : Expr {
    std::vector<std::pair<ExprP, ExprP>> items;
    Value eval(Scope& s) const override {
        json o = json::object();
        for (auto& [k, v] : items) o[to_str(k->eval(s))] = v->eval(s).get();
        return o;
    }
};

Value index_value(const Value& base, const Value& key, int line) {
    if (base.undefined) return Value::undef();
    const json& b = base.get();
    const json& k = key.get();
    if (b.is_object()) {
        if (!k.is_string()) return Value::undef();
        auto it = b.find(k.get<std::string>());
        return it == b.end() ? Value::undef() : Value(*it);
    }
    if ((b.is_array() || b.is_string()) && k.is_number_integer()) {
        int64_t n = b.is_array() ? int64_t(b.size()) : int64_t(b.get_ref<const std::string&>().size());
        int64_t i = k.get<int64_t>();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undef();
        if (b.is_array()) return Value(b[size_t(i)]);
        return Value(json(std::string(1, b.get_ref<const std::string&>()[size_t(i)])));
    }
    (void)line;
    return Value::undef();
}

struct Attr : Expr {
    ExprP base;
    std::string name;
    Value eval(Scope& s) const override { return index_value(base->eval(s), Value(json(name)), line); }
};
struct Index : Expr {
    ExprP base, key;
    Value eval(Scope& s) const override { return index_value(base->eval(s), key->eval(s), line); }
};
struct Slice : Expr {
    ExprP base, start, stop, step;
    Value eval(Scope& s) const override {
        Value b = base->eval(s);
        const json& j = b.get();
        if (!j.is_array() && !j.is_string()) fail(line, "slice of a value that is not a list or string");
        int64_t n = j.is_array() ? int64_t(j.size()) : int64_t(j.get_ref<const std::string&>().size());
        auto num = [&](const ExprP& e, int64_t dflt) {
            if (!e) return dflt;
            Value v = e->eval(s);
            if (!v.get().is_number_integer()) fail(line, "slice bound is not an integer");
            int64_t x = v.get().get<int64_t>();
            if (x < 0) x += n;
            return std::clamp<int64_t>(x, 0, n);
        };
        int64_t st = step ? step->eval(s).get().get<int64_t>() : 1;
        if (st != 1) fail(line, "slices with a step are not supported");
        int64_t a = num(start, 0), z = num(stop, n);
        if (j.is_array()) {
            json out = json::array();
            for (int64_t i = a; i < z; ++i) out.push_back(j[size_t(i)]);
            return out;
        }
        return json(z > a ? j.get_ref<const std::string&>().substr(size_t(a), size_t(z - a)) : std::string());
    }
};

bool values_equal(const Value& a, const Value& b) {
    if (a.undefined || b.undefined) return a.undefined && b.undefined;
    const json &x = a.get(), &y = b.get();
    if (x.is_number() && y.is_number()) return x.get<double>() == y.get<double>();
    return x == y;
}

struct Unary : Expr {
    std::string op;
    ExprP a;
    Value eval(Scope& s) const override {
        Value v = a->eval(s);
        if (op == "not") return json(!truthy(v));
        const json& j = v.get();
        if (!j.is_number()) fail(line, "unary minus on a non-number");
        if (j.is_number_float()) return json(-j.get<double>());
        return json(-j.get<int64_t>());
    }
};

std::string trim_ws(const std::string& s, bool left = true, bool right = true) {
    size_t b = 0, e = s.size();
    if (left) while (b < e && isspace(static_cast<unsigned char>(s[b]))) ++b;
    if (right) while (e > b && isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

struct Binary : Expr {
    std::string op;
    ExprP a, b;
    Value eval(Scope& s) const override {
        if (op == "and") { Value x = a->eval(s); return truthy(x) ? b->eval(s) : x; }
        if (op == "or") { Value x = a->eval(s); return truthy(x) ? x : b->eval(s); }
        Value x = a->eval(s), y = b->eval(s);
        if (op == "==") return json(values_equal(x, y));
        if (op == "!=") return json(!values_equal(x, y));
        if (op == "~") return json(to_str(x) + to_str(y));
        if (op == "in" || op == "not in") {
            bool r = false;
            const json& c = y.get();
            if (c.is_string()) r = x.get().is_string() && c.get<std::string>().find(x.get().get<std::string>()) != std::string::npos;
            else if (c.is_array()) r = std::any_of(c.begin(), c.end(), [&](const json& e) { return values_equal(Value(e), x); });
            else if (c.is_object()) r = x.get().is_string() && c.contains(x.get().get<std::string>());
            else if (!y.undefined) fail(line, "'in' needs a string, list or mapping");
            return json(op == "in" ? r : !r);
        }
        const json &p = x.get(), &q = y.get();
        if (op == "+") {
            if (p.is_string() && q.is_string()) return json(p.get<std::string>() + q.get<std::string>());
            if (p.is_array() && q.is_array()) { json r = p; for (auto& e : q) r.push_back(e); return r; }
        }
        if (op == "*" && p.is_string() && q.is_number_integer()) {
            if (double(p.get_ref<const std::string&>().size()) * double(q.get<int64_t>()) > 1e7)
                fail(line, "string repetition too long");
            std::string r;
            for (int64_t i = 0; i < q.get<int64_t>(); ++i) r += p.get<std::string>();
            return json(r);
        }
        if (!p.is_number() || !q.is_number()) {
            if ((op == "<" || op == ">" || op == "<=" || op == ">=") && p.is_string() && q.is_string()) {
                int c = p.get<std::string>().compare(q.get<std::string>());
                return json(op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0);
            }
            fail(line, "operator '" + op + "' on " + std::string(x.undefined ? "undefined" : p.type_name()) + " and " +
                           std::string(y.undefined ? "undefined" : q.type_name()));
        }
        const bool ints = p.is_number_integer() && q.is_number_integer();
        if (op == "<") return json(p.get<double>() < q.get<double>());
        if (op == ">") return json(p.get<double>() > q.get<double>());
        if (op == "<=") return json(p.get<double>() <= q.get<double>());
        if (op == ">=") return json(p.get<double>() >= q.get<double>());
        if (ints) {
            int64_t m = p.get<int64_t>(), n = q.get<int64_t>();
            if (op == "+") return json(m + n);
            if (op == "-") return json(m - n);
            if (op == "*") return json(m * n);
            if ((op == "//" || op == "%") && n == 0) fail(line, "division by zero");
            if (op == "//") return json(int64_t(std::floor(double(m) / double(n))));
            if (op == "%") { int64_t r = m % n; if (r != 0 && ((r < 0) != (n < 0))) r += n; return json(r); }
        }
        double m = p.get<double>(), n = q.get<double>();
        if (op == "+") return json(m + n);
        if (op == "-") return json(m - n);
        if (op == "*") return json(m * n);
        if (op == "/") { if (n == 0) fail(line, "division by zero"); return json(m / n); }
        if (op == "//") { if (n == 0) fail(line, "division by zero"); return json(std::floor(m / n)); }
        if (op == "%") { if (n == 0) fail(line, "division by zero"); return json(std::fmod(m, n)); }
        fail(line, "unknown operator '" + op + "'");
    }
};

struct Cond : Expr {
    ExprP then_, cond, else_;
    Value eval(Scope& s) const override {
        if (truthy(cond->eval(s))) return then_->eval(s);
        return else_ ? else_->eval(s) : Value::undef();
    }
};

struct Test : Expr {
    ExprP a;
    std::string name;
    bool negate = false;
    std::vector<ExprP> args;
    Value eval(Scope& s) const override {
        Value v = a->eval(s);
        const json& j = v.get();
        bool r;
        if (name == "defined") r = !v.undefined;
        else if (name == "undefined") r = v.undefined;
        else if (name == "none") r = !v.undefined && j.is_null();
        else if (name == "string") r = !v.undefined && j.is_string();
        else if (name == "number") r = !v.undefined && j.is_number();
        else if (name == "integer") r = !v.undefined && j.is_number_integer();
        else if (name == "float") r = !v.undefined && j.is_number_float();
        else if (name == "boolean") r = !v.undefined && j.is_boolean();
        else if (name == "true") r = !v.undefined && j.is_boolean() && j.get<bool>();
        else if (name == "false") r = !v.undefined && j.is_boolean() && !j.get<bool>();
        else if (name == "mapping") r = !v.undefined && (j.is_object() || v.ns);
        else if (name == "iterable") r = !v.undefined && (j.is_array() || j.is_string() || j.is_object());
        else if (name == "sequence") r = !v.undefined && (j.is_array() || j.is_string());
        else if (name == "even" || name == "odd") {
            if (!j.is_number_integer()) fail(line, "'" + name + "' test on a non-integer");
            r = (j.get<int64_t>() % 2 == 0) == (name == "even");
        } else if (name == "equalto" || name == "eq") {
            if (args.size() != 1) fail(line, "'" + name + "' test needs one argument");
            r = values_equal(v, args[0]->eval(s));
        } else fail(line, "unsupported test 'is " + name + "'");
        return json(negate ? !r : r);
    }
};

std::string py_title(std::string s) {
    bool start = true;
    for (char& c : s) {
        if (isalpha(static_cast<unsigned char>(c))) { c = start ? char(toupper(c)) : char(tolower(c)); start = false; }
        else start = true;
    }
    return s;
}

struct Filter : Expr {
    ExprP a;
    std::string name;
    std::vector<ExprP> args;
    Value eval(Scope& s) const override {
        Value v = a->eval(s);
        const json& j = v.get();
        auto need_str = [&]() -> std::string {
            if (v.undefined) return "";
            if (!j.is_string()) return to_str(v);
            return j.get<std::string>();
        };
        if (name == "trim") return json(trim_ws(need_str()));
        if (name == "upper") { std::string x = need_str(); for (char& c : x) c = char(toupper(c)); return json(x); }
        if (name == "lower") { std::string x = need_str(); for (char& c : x) c = char(tolower(c)); return json(x); }
        if (name == "capitalize") {
            std::string x = need_str();
            for (char& c : x) c = char(tolower(c));
            if (!x.empty()) x[0] = char(toupper(x[0]));
            return json(x);
        }
        if (name == "title") return json(py_title(need_str()));
        if (name == "string") return json(to_str(v));
        if (name == "length" || name == "count") {
            if (j.is_string()) return json(int64_t(j.get<std::string>().size()));
            if (j.is_array() || j.is_object()) return json(int64_t(j.size()));
            fail(line, "'length' of a value without length");
        }
        if (name == "first" || name == "last") {
            if (!j.is_array() || j.empty()) return Value::undef();
            return name == "first" ? Value(j.front()) : Value(j.back());
        }
        if (name == "reverse") {
            if (j.is_string()) { std::string x = j.get<std::string>(); std::reverse(x.begin(), x.end()); return json(x); }
            if (j.is_array()) { json r = j; std::reverse(r.begin(), r.end()); return r; }
            fail(line, "'reverse' of a value that is not a list or string");
        }
        if (name == "list") {
            if (j.is_array()) return j;
            if (j.is_string()) { json r = json::array(); for (char c : j.get<std::string>()) r.push_back(std::string(1, c)); return r; }
            fail(line, "'list' of a value that is not a list or string");
        }
        if (name == "join") {
            std::string sep = args.empty() ? "" : to_str(args[0]->eval(s));
            if (!j.is_array()) fail(line, "'join' of a value that is not a list");
            std::string r;
            for (size_t i = 0; i < j.size(); ++i) { if (i) r += sep; r += to_str(Value(j[i])); }
            return json(r);
        }
        if (name == "default" || name == "d") {
            bool boolean = args.size() > 1 && truthy(args[1]->eval(s));
            if (v.undefined || (boolean && !truthy(v))) return args.empty() ? Value(json("")) : args[0]->eval(s);
            return v;
        }
        if (name == "tojson") {
            int indent = -1;
            if (!args.empty()) indent = int(args[0]->eval(s).get().get<int64_t>());
            return json(j.dump(indent, ' ', false, json::error_handler_t::replace));
        }
        if (name == "int") {
            if (j.is_number()) return json(int64_t(j.get<double>()));
            if (j.is_string()) { try { return json(int64_t(std::stoll(j.get<std::string>()))); } catch (...) { return json(0); } }
            return json(0);
        }
        if (name == "items") {
            if (!j.is_object()) fail(line, "'items' of a value that is not a mapping");
            json r = json::array();
            for (auto it = j.begin(); it != j.end(); ++it) r.push_back(json::array({it.key(), it.value()}));
            return r;
        }
        fail(line, "unsupported filter '" + name + "'");
    }
};

struct Call : Expr {
    ExprP callee;            // Var (global function) or Attr (method)
    std::vector<ExprP> args;
    std::vector<std::pair<std::string, ExprP>> kwargs;
    Value eval(Scope& s) const override {
        if (auto* var = dynamic_cast<Var*>(callee.get())) {
            if (var->name == "raise_exception") {
                throw TemplateError("template raised: " + (args.empty() ? std::string() : to_str(args[0]->eval(s))));
            }
            if (var->name == "namespace") {
                Value v;
                v.ns = std::make_shared<json>(json::object());
                for (auto& [k, e] : kwargs) (*v.ns)[k] = e->eval(s).get();
                return v;
            }
            if (var->name == "range") {
                std::vector<int64_t> a;
                for (auto& e : args) a.push_back(e->eval(s).get().get<int64_t>());
                int64_t start = 0, stop = 0, step = 1;
                if (a.size() == 1) stop = a[0];
                else if (a.size() >= 2) { start = a[0]; stop = a[1]; if (a.size() > 2) step = a[2]; }
                if (step == 0) fail(line, "range() step must not be zero");
                json r = json::array();
                for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
                    if (r.size() >= 100000) fail(line, "range() longer than 100000");
                    r.push_back(i);
                }
                return r;
            }
            if (var->name == "strftime_now") fail(line, "strftime_now() is not supported (no clock in the core)");
            fail(line, "unknown function '" + var->name + "'");
        }
        auto* attr = dynamic_cast<Attr*>(callee.get());
        if (!attr) fail(line, "call of something that is not a function");
        Value base = attr->base->eval(s);
        const json& b = base.get();
        const std::string& m = attr->name;
        std::vector<Value> av;
        for (auto& e : args) av.push_back(e->eval(s));
        if (b.is_string()) {
            const std::string& str = b.get_ref<const std::string&>();
            if (m == "strip") return json(trim_ws(str));
            if (m == "lstrip") return json(trim_ws(str, true, false));
            if (m == "rstrip") return json(trim_ws(str, false, true));
            if (m == "upper" || m == "lower") {
                std::string x = str;
                for (char& c : x) c = char(m == "upper" ? toupper(c) : tolower(c));
                return json(x);
            }
            if (m == "title") return json(py_title(str));
            if ((m == "startswith" || m == "endswith") && av.size() == 1) {
                std::string p = to_str(av[0]);
                bool r = m == "startswith" ? str.rfind(p, 0) == 0
                                           : str.size() >= p.size() && str.compare(str.size() - p.size(), p.size(), p) == 0;
                return json(r);
            }
            if (m == "split") {
                json r = json::array();
                if (av.empty()) {
                    size_t i = 0;
                    while (i < str.size()) {
                        while (i < str.size() && isspace(static_cast<unsigned char>(str[i]))) ++i;
                        size_t b0 = i;
                        while (i < str.size() && !isspace(static_cast<unsigned char>(str[i]))) ++i;
                        if (i > b0) r.push_back(str.substr(b0, i - b0));
                    }
                } else {
                    std::string sep = to_str(av[0]);
                    if (sep.empty()) fail(line, "split() with an empty separator");
                    size_t p0 = 0, at;
                    while ((at = str.find(sep, p0)) != std::string::npos) { r.push_back(str.substr(p0, at - p0)); p0 = at + sep.size(); }
                    r.push_back(str.substr(p0));
                }
                return r;
            }
            if (m == "replace" && av.size() == 2) {
                std::string from = to_str(av[0]), to = to_str(av[1]), r;
                if (from.empty()) return json(str);
                size_t p0 = 0, at;
                while ((at = str.find(from, p0)) != std::string::npos) { r += str.substr(p0, at - p0) + to; p0 = at + from.size(); }
                return json(r + str.substr(p0));
            }
        }
        if (b.is_object()) {
            if (m == "items") {
                json r = json::array();
                for (auto it = b.begin(); it != b.end(); ++it) r.push_back(json::array({it.key(), it.value()}));
                return r;
            }
            if (m == "keys") { json r = json::array(); for (auto it = b.begin(); it != b.end(); ++it) r.push_back(it.key()); return r; }
            if (m == "values") { json r = json::array(); for (auto& e : b) r.push_back(e); return r; }
            if (m == "get" && !av.empty()) {
                Value r = index_value(base, av[0], line);
                return r.undefined ? (av.size() > 1 ? av[1] : Value(json(nullptr))) : r;
            }
        }
        fail(line, "unsupported method '" + m + "()'");
    }
};

// ---- expression parser ---------------------------------------------------------
class ExprParser {
public:
    ExprParser(std::vector<Token> toks, int line) : t_(std::move(toks)), line_(line) {}
    ExprP parse_full() {
        ExprP e = parse();
        if (peek().type != Tok::End) fail(line_, "unexpected '" + peek().text + "' in expression");
        return e;
    }
    ExprP parse() {
        Depth d(this);
        return parse_cond();
    }
    const Token& peek(int k = 0) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
    bool accept_op(const char* op) {
        if (peek().type == Tok::Op && peek().text == op) { ++pos_; return true; }
        return false;
    }
    bool accept_name(const char* n) {
        if (peek().type == Tok::Name && peek().text == n) { ++pos_; return true; }
        return false;
    }
    void expect_op(const char* op) {
        if (!accept_op(op)) fail(line_, std::string("expected '") + op + "' but found '" + peek().text + "'");
    }
    std::string expect_name() {
        if (peek().type != Tok::Name) fail(line_, "expected a name but found '" + peek().text + "'");
        return t_[pos_++].text;
    }
    bool at_end() const { return peek().type == Tok::End; }

private:
    // Bounds recursion so a hostile template cannot overflow the stack.
    struct Depth {
        ExprParser* p;
        explicit Depth(ExprParser* q) : p(q) {
            if (++p->depth_ > 64) fail(p->line_, "expression nested too deeply");
        }
        ~Depth() { --p->depth_; }
    };
    int depth_ = 0;
    template <class T> std::shared_ptr<T> make() { auto p = std::make_shared<T>(); p->line = line_; return p; }
    ExprP bin(const std::string& op, ExprP a, ExprP b) {
        auto e = make<Binary>(); e->op = op; e->a = std::move(a); e->b = std::move(b); return e;
    }
    ExprP parse_cond() {
        ExprP a = parse_or();
        if (accept_name("if")) {
            auto c = make<Cond>();
            c->then_ = a;
            c->cond = parse_or();
            if (accept_name("else")) c->else_ = parse_cond();
            return c;
        }
        return a;
    }
    ExprP parse_or() { ExprP a = parse_and(); while (accept_name("or")) a = bin("or", a, parse_and()); return a; }
    ExprP parse_and() { ExprP a = parse_not(); while (accept_name("and")) a = bin("and", a, parse_not()); return a; }
    ExprP parse_not() {
        Depth d(this);
        if (accept_name("not")) { auto u = make<Unary>(); u->op = "not"; u->a = parse_not(); return u; }
        return parse_compare();
    }
    ExprP parse_compare() {
        ExprP a = parse_concat();
        for (;;) {
            const Token& t = peek();
            if (t.type == Tok::Op && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == ">" ||
                                      t.text == "<=" || t.text == ">=")) {
                std::string op = t.text; ++pos_;
                a = bin(op, a, parse_concat());
            } else if (accept_name("in")) {
                a = bin("in", a, parse_concat());
            } else if (peek().type == Tok::Name && peek().text == "not" && peek(1).type == Tok::Name && peek(1).text == "in") {
                pos_ += 2;
                a = bin("not in", a, parse_concat());
            } else if (accept_name("is")) {
                auto te = make<Test>();
                te->a = a;
                te->negate = accept_name("not");
                te->name = peek().type == Tok::Name ? t_[pos_++].text : "";
                if (te->name.empty()) fail(line_, "expected a test name after 'is'");
                if (accept_op("(")) {
                    if (!accept_op(")")) { do te->args.push_back(parse()); while (accept_op(",")); expect_op(")"); }
                } else if (te->name == "equalto" || te->name == "eq") {
                    te->args.push_back(parse_concat());
                }
                a = te;
            } else {
                return a;
            }
        }
    }
    ExprP parse_concat() { ExprP a = parse_add(); while (accept_op("~")) a = bin("~", a, parse_add()); return a; }
    ExprP parse_add() {
        ExprP a = parse_mul();
        for (;;) {
            if (accept_op("+")) a = bin("+", a, parse_mul());
            else if (accept_op("-")) a = bin("-", a, parse_mul());
            else return a;
        }
    }
    ExprP parse_mul() {
        ExprP a = parse_unary();
        for (;;) {
            if (accept_op("*")) a = bin("*", a, parse_unary());
            else if (accept_op("//")) a = bin("//", a, parse_unary());
            else if (accept_op("/")) a = bin("/", a, parse_unary());
            else if (accept_op("%")) a = bin("%", a, parse_unary());
            else if (peek().type == Tok::Op && peek().text == "**") fail(line_, "operator '**' is not supported");
            else return a;
        }
    }
    ExprP parse_unary() {
        Depth d(this);
        if (accept_op("-")) { auto u = make<Unary>(); u->op = "-"; u->a = parse_unary(); return u; }
        if (accept_op("+")) return parse_unary();
        return parse_filtered();
    }
    ExprP parse_filtered() {
        ExprP a = parse_postfix();
        while (accept_op("|")) {
            auto f = make<Filter>();
            f->a = a;
            f->name = expect_name();
            if (accept_op("(")) {
                if (!accept_op(")")) {
                    do {
                        if (peek().type == Tok::Name && peek(1).type == Tok::Op && peek(1).text == "=") pos_ += 2;  // kwarg: positional
                        f->args.push_back(parse());
                    } while (accept_op(","));
                    expect_op(")");
                }
            }
            a = f;
        }
        return a;
    }
    ExprP parse_postfix() {
        ExprP a = parse_primary();
        for (;;) {
            if (accept_op(".")) {
                auto at = make<Attr>(); at->base = a; at->name = expect_name(); a = at;
            } else if (accept_op("[")) {
                ExprP start, stop;
                if (!(peek().type == Tok::Op && peek().text == ":")) start = parse();
                if (accept_op(":")) {
                    auto sl = make<Slice>();
                    sl->base = a; sl->start = start;
                    if (!(peek().type == Tok::Op && (peek().text == "]" || peek().text == ":"))) sl->stop = parse();
                    if (accept_op(":")) sl->step = parse();
                    expect_op("]");
                    a = sl;
                } else {
                    expect_op("]");
                    auto ix = make<Index>(); ix->base = a; ix->key = start; a = ix;
                }
            } else if (accept_op("(")) {
                auto c = make<Call>();
                c->callee = a;
                if (!accept_op(")")) {
                    do {
                        if (peek().type == Tok::Name && peek(1).type == Tok::Op && peek(1).text == "=") {
                            std::string k = t_[pos_].text; pos_ += 2;
                            c->kwargs.emplace_back(k, parse());
                        } else {
                            c->args.push_back(parse());
                        }
                    } while (accept_op(","));
                    expect_op(")");
                }
                a = c;
            } else {
                return a;
            }
        }
    }
    ExprP parse_primary() {
        const Token t = peek();
        if (t.type == Tok::String) {
            ++pos_;
            std::string v = t.text;
            while (peek().type == Tok::String) v += t_[pos_++].text;  // adjacent literals concatenate
            auto l = make<Literal>(); l->v = Value(json(v)); return l;
        }
        if (t.type == Tok::Int) { ++pos_; auto l = make<Literal>(); l->v = Value(json(int64_t(std::stoll(t.text)))); return l; }
        if (t.type == Tok::Float) { ++pos_; auto l = make<Literal>(); l->v = Value(json(std::stod(t.text))); return l; }
        if (t.type == Tok::Name) {
            ++pos_;
            auto l = make<Literal>();
            if (t.text == "true" || t.text == "True") { l->v = Value(json(true)); return l; }
            if (t.text == "false" || t.text == "False") { l->v = Value(json(false)); return l; }
            if (t.text == "none" || t.text == "None") { l->v = Value(json(nullptr)); return l; }
            auto v = make<Var>(); v->name = t.text; return v;
        }
        if (accept_op("(")) {
            ExprP e = parse();
            if (accept_op(",")) {  // tuple: treat as list
                auto li = make<ListExpr>(); li->items.push_back(e);
                if (!accept_op(")")) { do li->items.push_back(parse()); while (accept_op(",")); expect_op(")"); }
                return li;
            }
            expect_op(")");
            return e;
        }
        if (accept_op("[")) {
            auto li = make<ListExpr>();
            if (!accept_op("]")) { do { if (peek().text == "]") break; li->items.push_back(parse()); } while (accept_op(",")); expect_op("]"); }
            return li;
        }
        if (accept_op("{")) {
            auto d = make<DictExpr>();
            if (!accept_op("}")) {
                do { ExprP k = parse(); expect_op(":"); d->items.emplace_back(k, parse()); } while (accept_op(","));
                expect_op("}");
            }
            return d;
        }
        fail(line_, t.type == Tok::End ? "expression ends too early" : "unexpected '" + t.text + "'");
    }

    std::vector<Token> t_;
    size_t pos_ = 0;
    int line_;
};

// ---- statements -----------------------------------------------------------------
struct Stmt {
    int line = 0;
    virtual ~Stmt() = default;
    virtual void exec(Scope& s, std::string& out) const = 0;
};
using StmtP = std::shared_ptr<Stmt>;
using Body = std::vector<StmtP>;

void exec_body(const Body& b, Scope& s, std::string& out) {
    for (auto& st : b) st->exec(s, out);
}

struct TextStmt : Stmt {
    std::string text;
    void exec(Scope&, std::string& out) const override { out += text; }
};
struct OutStmt : Stmt {
    ExprP e;
    void exec(Scope& s, std::string& out) const override { out += to_str(e->eval(s)); }
};
struct IfStmt : Stmt {
    std::vector<std::pair<ExprP, Body>> branches;  // null cond = else
    void exec(Scope& s, std::string& out) const override {
        for (auto& [c, b] : branches)
            if (!c || truthy(c->eval(s))) { exec_body(b, s, out); return; }
    }
};
struct ForStmt : Stmt {
    std::vector<std::string> vars;
    ExprP iter, filter;
    Body body, else_body;
    void exec(Scope& s, std::string& out) const override {
        Value it = iter->eval(s);
        const json& j = it.get();
        json items = json::array();
        if (it.undefined || j.is_null()) {
        } else if (j.is_array()) items = j;
        else if (j.is_object()) { for (auto x = j.begin(); x != j.end(); ++x) items.push_back(x.key()); }
        else if (j.is_string()) { for (char c : j.get<std::string>()) items.push_back(std::string(1, c)); }
        else fail(line, "for loop over a value that is not iterable");
        std::vector<json> selected;
        for (auto& e : items) {
            if (filter) {
                s.frames.emplace_back();
                bind(s, e);
                bool keep = truthy(filter->eval(s));
                s.frames.pop_back();
                if (!keep) continue;
            }
            selected.push_back(e);
        }
        if (selected.empty()) { exec_body(else_body, s, out); return; }
        const int64_t n = int64_t(selected.size());
        for (int64_t i = 0; i < n; ++i) {
            if (++s.iterations > 1000000) fail(line, "template loops ran more than 1000000 times");
            s.frames.emplace_back();
            bind(s, selected[size_t(i)]);
            json loop = {{"index", i + 1}, {"index0", i}, {"first", i == 0}, {"last", i == n - 1}, {"length", n},
                         {"revindex", n - i}, {"revindex0", n - i - 1}};
            loop["previtem"] = i > 0 ? selected[size_t(i - 1)] : json(nullptr);
            loop["nextitem"] = i + 1 < n ? selected[size_t(i + 1)] : json(nullptr);
            s.set("loop", Value(loop));
            exec_body(body, s, out);
            s.frames.pop_back();
        }
    }
    void bind(Scope& s, const json& e) const {
        if (vars.size() == 1) { s.set(vars[0], Value(e)); return; }
        if (!e.is_array() || e.size() != vars.size()) fail(line, "cannot unpack loop item into " + std::to_string(vars.size()) + " names");
        for (size_t k = 0; k < vars.size(); ++k) s.set(vars[k], Value(e[k]));
    }
};
struct SetStmt : Stmt {
    std::string name, attr;
    ExprP e;
    void exec(Scope& s, std::string&) const override {
        Value v = e->eval(s);
        if (attr.empty()) { s.set(name, v); return; }
        Value target = s.lookup(name);
        if (!target.ns) fail(line, "'" + name + "." + attr + "' can only be set on a namespace()");
        (*target.ns)[attr] = v.get();
    }
};

// ---- template lexer + parser ---------------------------------------------------------
struct Chunk {
    enum Kind { Text, Out, Tag } kind;
    std::string body;
    int line;
};

std::vector<Chunk> split_template(const std::string& src) {
    std::vector<Chunk> chunks;
    size_t i = 0;
    int line = 1;
    bool strip_next = false;  // previous tag ended with '-'
    bool trim_newline = false;  // previous tag was a block tag (trim_blocks)
    auto count_lines = [](const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); };
    while (i <= src.size()) {
        size_t open = src.find('{', i);
        while (open != std::string::npos && open + 1 < src.size() && src[open + 1] != '{' && src[open + 1] != '%' &&
               src[open + 1] != '#')
            open = src.find('{', open + 1);
        if (open != std::string::npos && open + 1 >= src.size()) open = std::string::npos;
        std::string text = src.substr(i, (open == std::string::npos ? src.size() : open) - i);
        const int text_line = line;
        line += count_lines(text);
        if (strip_next) {
            size_t b = 0;
            while (b < text.size() && isspace(static_cast<unsigned char>(text[b]))) ++b;
            text = text.substr(b);
        } else if (trim_newline && !text.empty() && text[0] == '\n') {
            text = text.substr(1);
        }
        strip_next = trim_newline = false;
        if (open == std::string::npos) {
            if (!text.empty()) chunks.push_back({Chunk::Text, text, text_line});
            break;
        }
        const char kind = src[open + 1];
        const bool strip_before = open + 2 < src.size() && src[open + 2] == '-';
        const bool plus_before = open + 2 < src.size() && src[open + 2] == '+';
        if (strip_before) {
            size_t e = text.size();
            while (e > 0 && isspace(static_cast<unsigned char>(text[e - 1]))) --e;
            text.resize(e);
        } else if ((kind == '%' || kind == '#') && !plus_before) {
            // lstrip_blocks: spaces and tabs from the line start (in the source) up to a block tag.
            size_t k = open;
            while (k > 0 && (src[k - 1] == ' ' || src[k - 1] == '\t')) --k;
            if (k == 0 || src[k - 1] == '\n') {
                size_t e = text.size();
                while (e > 0 && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
                text.resize(e);
            }
        }
        if (!text.empty()) chunks.push_back({Chunk::Text, text, text_line});
        const std::string close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
        size_t body_start = open + 2 + (strip_before || plus_before ? 1 : 0);
        size_t end = src.find(close, body_start);
        if (kind == '{') {
            // '}}' inside a string literal or dict is rare in chat templates; scan quotes to be safe.
            size_t p = body_start;
            char q = 0;
            for (; p + 1 < src.size(); ++p) {
                char c = src[p];
                if (q) { if (c == '\\') ++p; else if (c == q) q = 0; continue; }
                if (c == '\'' || c == '"') { q = c; continue; }
                if (c == '}' && src[p + 1] == '}') break;
            }
            end = p + 1 < src.size() ? p : std::string::npos;
        }
        if (end == std::string::npos) throw TemplateError("line " + std::to_string(line) + ": unclosed '{" + kind + "'");
        size_t body_end = end;
        bool strip_after = false;
        if (body_end > body_start && src[body_end - 1] == '-') { strip_after = true; --body_end; }
        std::string body = src.substr(body_start, body_end - body_start);
        const int tag_line = line;
        line += count_lines(src.substr(open, end + 2 - open));
        if (kind == '{') chunks.push_back({Chunk::Out, body, tag_line});
        else if (kind == '%') chunks.push_back({Chunk::Tag, body, tag_line});
        strip_next = strip_after;
        trim_newline = kind != '{';
        i = end + 2;
    }
    return chunks;
}

class TemplateParser {
public:
    explicit TemplateParser(std::vector<Chunk> c) : c_(std::move(c)) {}
    Body parse_all() {
        std::string stop;
        Body b = parse_until({}, &stop);
        return b;
    }

private:
    // Parses statements until a tag whose first word is in `ends`; returns that tag's tokens in *stop_toks.
    Body parse_until(const std::vector<std::string>& ends, std::string* stop_word, ExprParser** stop_parser = nullptr) {
        struct Nest {
            int& d;
            explicit Nest(int& x, int line) : d(x) { if (++d > 64) fail(line, "blocks nested too deeply"); }
            ~Nest() { --d; }
        } nest(nesting_, pos_ < c_.size() ? c_[pos_].line : 0);
        Body body;
        while (pos_ < c_.size()) {
            const Chunk& ch = c_[pos_++];
            if (ch.kind == Chunk::Text) {
                auto t = std::make_shared<TextStmt>(); t->text = ch.body; t->line = ch.line; body.push_back(t);
                continue;
            }
            if (ch.kind == Chunk::Out) {
                auto o = std::make_shared<OutStmt>();
                o->line = ch.line;
                o->e = ExprParser(lex_expr(ch.body, ch.line), ch.line).parse_full();
                body.push_back(o);
                continue;
            }
            parsers_.emplace_back(new ExprParser(lex_expr(ch.body, ch.line), ch.line));
            ExprParser& p = *parsers_.back();
            if (p.at_end()) fail(ch.line, "empty tag");
            const std::string word = p.expect_name();
            if (std::find(ends.begin(), ends.end(), word) != ends.end()) {
                *stop_word = word;
                if (stop_parser) *stop_parser = &p;
                return body;
            }
            if (word == "if") {
                auto st = std::make_shared<IfStmt>();
                st->line = ch.line;
                ExprP cond = p.parse_full();
                for (;;) {
                    std::string w;
                    ExprParser* sp = nullptr;
                    Body b = parse_until({"elif", "else", "endif"}, &w, &sp);
                    if (w.empty()) fail(ch.line, "'if' without 'endif'");
                    st->branches.emplace_back(cond, std::move(b));
                    if (w == "endif") break;
                    if (w == "elif") { cond = sp->parse_full(); continue; }
                    std::string w2;
                    Body eb = parse_until({"endif"}, &w2);
                    if (w2.empty()) fail(ch.line, "'if' without 'endif'");
                    st->branches.emplace_back(nullptr, std::move(eb));
                    break;
                }
                body.push_back(st);
            } else if (word == "for") {
                auto st = std::make_shared<ForStmt>();
                st->line = ch.line;
                st->vars.push_back(p.expect_name());
                while (p.accept_op(",")) st->vars.push_back(p.expect_name());
                if (!p.accept_name("in")) fail(ch.line, "expected 'in' in for loop");
                st->iter = p.parse();  // stops before a trailing 'if'? parse_cond would eat it: handled below
                if (auto* c = dynamic_cast<Cond*>(st->iter.get()); c && !c->else_) {
                    st->filter = c->cond;
                    st->iter = c->then_;
                }
                if (p.accept_name("recursive")) fail(ch.line, "recursive loops are not supported");
                if (!p.at_end()) fail(ch.line, "unexpected '" + p.peek().text + "' in for tag");
                std::string w;
                st->body = parse_until({"else", "endfor"}, &w);
                if (w.empty()) fail(ch.line, "'for' without 'endfor'");
                if (w == "else") {
                    std::string w2;
                    st->else_body = parse_until({"endfor"}, &w2);
                    if (w2.empty()) fail(ch.line, "'for' without 'endfor'");
                }
                body.push_back(st);
            } else if (word == "set") {
                auto st = std::make_shared<SetStmt>();
                st->line = ch.line;
                st->name = p.expect_name();
                if (p.accept_op(".")) st->attr = p.expect_name();
                if (!p.accept_op("=")) fail(ch.line, "block 'set' (without '=') is not supported");
                st->e = p.parse_full();
                body.push_back(st);
            } else if (word == "generation" || word == "endgeneration") {
                // transformers' assistant-mask markers: render nothing.
            } else {
                fail(ch.line, "unsupported tag '{% " + word + " %}'");
            }
        }
        stop_word->clear();
        return body;
    }

    std::vector<Chunk> c_;
    size_t pos_ = 0;
    int nesting_ = 0;
    std::vector<std::unique_ptr<ExprParser>> parsers_;
};

}  // namespace

struct ChatTemplate::Node {
    Body body;
};

ChatTemplate::ChatTemplate() = default;
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

bool ChatTemplate::parse(const std::string& source, std::string* error) {
    root_.reset();
    try {
        auto n = std::make_shared<Node>();
        n->body = TemplateParser(split_template(source)).parse_all();
        root_ = n;
        return true;
    } catch (const TemplateError& e) {
        if (error) *error = std::string("chat template: ") + e.what();
    } catch (const std::exception& e) {
        if (error) *error = std::string("chat template: ") + e.what();
    }
    return false;
}

bool ChatTemplate::ok() const { return root_ != nullptr; }

bool ChatTemplate::render(const nlohmann::ordered_json& context, std::string* out, std::string* error) const {
    if (!root_) {
        if (error) *error = "chat template: not parsed";
        return false;
    }
    Scope s;
    s.frames.emplace_back();
    if (context.is_object())
        for (auto it = context.begin(); it != context.end(); ++it) s.set(it.key(), Value(it.value()));
    std::string result;
    try {
        exec_body(root_->body, s, result);
    } catch (const TemplateError& e) {
        if (error) *error = std::string("chat template: ") + e.what();
        return false;
    } catch (const std::exception& e) {
        if (error) *error = std::string("chat template: ") + e.what();
        return false;
    }
    *out = std::move(result);
    return true;
}

nlohmann::ordered_json chat_context(const nlohmann::ordered_json& messages, bool add_generation_prompt, const std::string& bos_token,
                            const std::string& eos_token) {
    return {{"messages", messages},
            {"add_generation_prompt", add_generation_prompt},
            {"bos_token", bos_token},
            {"eos_token", eos_token}};
}

}  // namespace es

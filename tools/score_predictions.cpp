// score_predictions: scores a predictions JSON file natively with the same code
// as the app and the Node module (src/metrics/score_predictions.h; formats in
// src/metrics/README.md).
//
//   score_predictions INPUT.json [OUTPUT.json]     ("-" = standard input/output)
//
// Exit status: 0 scored, 1 the input cannot be scored (why on standard error), 2 usage.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "metrics/score_predictions.h"

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3 || std::string(argv[1]) == "--help") {
        std::cerr << "usage: score_predictions INPUT.json [OUTPUT.json]   (\"-\" = standard input/output)\n"
                     "Scores predictions against the truth; the formats are in src/metrics/README.md.\n";
        return 2;
    }
    std::string text;
    const std::string input = argv[1];
    if (input == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        std::ifstream in(input, std::ios::binary);
        if (!in) {
            std::cerr << "score_predictions: cannot read " << input << ": check the path.\n";
            return 1;
        }
        std::ostringstream s;
        s << in.rdbuf();
        text = s.str();
    }
    const es::ScoredPredictions r = es::score_predictions(text);
    if (!r.ok) {
        std::cerr << "score_predictions: " << r.message << "\n";
        if (!r.detail.empty()) std::cerr << "  details: " << r.detail << "\n";
        return 1;
    }
    if (argc == 3 && std::string(argv[2]) != "-") {
        std::ofstream out(argv[2], std::ios::binary);
        out << r.json << "\n";
        if (!out) {
            std::cerr << "score_predictions: cannot write " << argv[2] << ": check the folder exists and is writable.\n";
            return 1;
        }
    } else {
        std::cout << r.json << "\n";
    }
    return 0;
}

// paired_difference.cpp: see paired_difference.h.
#include "metrics/paired_difference.h"

#include <algorithm>
#include <cmath>

namespace es {

double mcnemar_exact_p(size_t b, size_t c) {
    const size_t n = b + c;
    if (n == 0) return 1.0;
    const size_t k = std::min(b, c);
    // Summed in log space: 0.5^n underflows past n = 1074.
    const double ln_half_n = double(n) * std::log(0.5);
    double sum = 0;
    for (size_t i = 0; i <= k; ++i)
        sum += std::exp(std::lgamma(double(n) + 1) - std::lgamma(double(i) + 1) - std::lgamma(double(n - i) + 1) + ln_half_n);
    return std::min(1.0, 2 * sum);
}

PairedDifference paired_difference(const std::vector<double>& first, const std::vector<double>& second,
                                   const BootstrapOptions& bootstrap) {
    PairedDifference r;
    r.items = std::min(first.size(), second.size());
    std::vector<double> diff(r.items);
    for (size_t i = 0; i < r.items; ++i) {
        const bool a = first[i] > 0.5, b = second[i] > 0.5;
        if (a && b) ++r.both_right;
        else if (a) ++r.first_only;
        else if (b) ++r.second_only;
        else ++r.both_wrong;
        diff[i] = second[i] - first[i];
    }
    r.metrics = {{"first_accuracy", weighted_mean(first, {}), {}},
                 {"second_accuracy", weighted_mean(second, {}), {}},
                 {"difference", weighted_mean(diff, {}), {}}};
    attach_intervals(r.metrics, bootstrap_intervals(r.items, bootstrap, 3, [&](const std::vector<double>& w, double* out) {
                         out[0] = weighted_mean(first, w);
                         out[1] = weighted_mean(second, w);
                         out[2] = weighted_mean(diff, w);
                     }));
    r.mcnemar_p = mcnemar_exact_p(r.first_only, r.second_only);
    return r;
}

}  // namespace es

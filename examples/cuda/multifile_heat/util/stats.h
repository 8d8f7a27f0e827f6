/* Plain C in a subdirectory: reached through a quoted include with a path. */
#ifndef HEAT_STATS_H
#define HEAT_STATS_H
static inline double weighted_sum(const float *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i] * (double)(i % 11 + 1);
    return s;
}
#endif

/* Plain C shared by the host code: sizes and the initial state. */
#ifndef HEAT_COMMON_H
#define HEAT_COMMON_H
#define NX 66
#define NY 50
#define STEPS 40

static inline float initial_temperature(int x, int y)
{
    return (x > NX / 3 && x < NX / 2 && y > NY / 4 && y < NY / 2) ? 100.0f : (float)((x + 2 * y) % 7);
}
#endif

/* Serial twin of dim3_forms.cu: computes the expected output independently. */
#include <stdio.h>
#include <stdlib.h>

#define W 45
#define H 38

int main(void)
{
    const int n = W * H, depth = 3;
    float *img = malloc(n * sizeof(float)), *tmp = malloc(n * sizeof(float));
    float *vol = malloc(n * depth * sizeof(float));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            img[y * W + x] = (float)((x * 7 + y * 3) % 23);
    for (int i = 0; i < n; i++)
        img[i] = img[i] * 0.5f + 1.0f;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float l = x > 0 ? img[y * W + x - 1] : img[y * W + x];
            float r = x < W - 1 ? img[y * W + x + 1] : img[y * W + x];
            tmp[y * W + x] = 0.25f * l + 0.5f * img[y * W + x] + 0.25f * r;
        }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            tmp[y * W + x] += (float)x;
    for (int z = 0; z < depth; z++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                vol[(z * H + y) * W + x] = tmp[y * W + x] * (float)(z + 1);
    for (int i = 0; i < n; i++)
        tmp[i] = tmp[i] * 2.0f + 1.0f;
    double sv = 0.0, st = 0.0;
    for (int i = 0; i < n * depth; i++)
        sv += vol[i] * (double)(i % 5 + 1);
    for (int i = 0; i < n; i++)
        st += tmp[i];
    printf("dim3_forms vol=%.3f img=%.3f corner=%.3f\n", sv, st, tmp[n - 1]);
    free(img); free(tmp); free(vol);
    return 0;
}

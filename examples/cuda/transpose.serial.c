/* Serial twin of transpose.cu. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int rows = 70, cols = 45;
    float *a = malloc(rows * cols * sizeof(float)), *t = malloc(rows * cols * sizeof(float));
    for (int i = 0; i < rows * cols; i++)
        a[i] = (float)i;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            t[c * rows + r] = a[r * cols + c];
    double wsum = 0.0;
    for (int i = 0; i < rows * cols; i++)
        wsum += t[i] * (double)(i % 17);
    printf("transpose %dx%d t[1]=%.0f t[last]=%.0f wsum=%.0f\n", rows, cols, t[1], t[rows * cols - 1], wsum);
    free(a); free(t);
    return 0;
}

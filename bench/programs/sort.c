/* Branch-heavy code: quicksort (median of three, insertion sort below 16 elements) of
 * pseudo-random integers, then a heapsort of the same data reshuffled. */
#include "bench.h"

#define COUNT 500000

static int32_t data[COUNT];

static void insertion_sort(int32_t *v, int32_t n) {
    for (int32_t i = 1; i < n; i++) {
        int32_t x = v[i], j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void swap(int32_t *v, int32_t i, int32_t j) {
    int32_t t = v[i];
    v[i] = v[j];
    v[j] = t;
}

static void quicksort(int32_t *v, int32_t n) {
    while (n > 16) {
        int32_t mid = n / 2;
        if (v[mid] < v[0]) swap(v, mid, 0);
        if (v[n - 1] < v[0]) swap(v, n - 1, 0);
        if (v[n - 1] < v[mid]) swap(v, n - 1, mid);
        int32_t pivot = v[mid], i = 0, j = n - 1;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) swap(v, i++, j--);
        }
        /* Recurse into the smaller side, loop on the larger: the stack stays logarithmic. */
        if (j + 1 < n - i) {
            quicksort(v, j + 1);
            v += i;
            n -= i;
        } else {
            quicksort(v + i, n - i);
            n = j + 1;
        }
    }
    insertion_sort(v, n);
}

static void sift_down(int32_t *v, int32_t root, int32_t n) {
    for (;;) {
        int32_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && v[child + 1] > v[child]) child++;
        if (v[root] >= v[child]) return;
        swap(v, root, child);
        root = child;
    }
}

static void heapsort(int32_t *v, int32_t n) {
    for (int32_t i = n / 2 - 1; i >= 0; i--)
        sift_down(v, i, n);
    for (int32_t end = n - 1; end > 0; end--) {
        swap(v, 0, end);
        sift_down(v, 0, end);
    }
}

static uint64_t digest(const int32_t *v, int32_t n) {
    uint64_t sum = 0;
    for (int32_t i = 0; i < n; i++)
        sum = sum * 1000003 + (uint32_t)v[i];
    return sum;
}

BENCH_RUN {
    uint64_t seed = 0x13198a2e03707344u;
    for (int32_t i = 0; i < COUNT; i++)
        data[i] = (int32_t)bench_rand(&seed);
    quicksort(data, COUNT);
    uint64_t sum = digest(data, COUNT);
    for (int32_t i = COUNT - 1; i > 0; i--)
        swap(data, i, (int32_t)(bench_rand(&seed) % (uint64_t)(i + 1)));
    heapsort(data, COUNT);
    return sum * 3 + digest(data, COUNT);
}

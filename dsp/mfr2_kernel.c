/* The MFC-R2 receiver's per-tick decisions (dsp/mfr2.py R2Receiver) for every channel in one call:
 * from each new 5 ms sub-block's correlations and samples, the window on the stream's phase reference,
 * its Q.455 tests and the recognition timing. Every figure comes from dsp/mfr2.py through
 * constants(); the comments name the Python constant each test implements.
 *
 * The arithmetic runs across channels, one window position at a time, in loops the compiler
 * vectorises; a channel taken alone left the processor waiting on branches that go either way from
 * channel to channel and on long chains of dependent operations. */

#include "kernel_support.h"
#include <math.h>
#include <stdint.h>

#define KERNEL "mfr2_kernel"
#define FREQS 6      /* Q.441: six frequencies per direction */
#define SUB 40       /* dsp/blocks.py SUB: samples per sub-block */
#define WINDOW 5     /* WINDOW_SUBS */
#define HISTORY (WINDOW - 1)
/* The history (dsp/mfr2.py R2Receiver._history), float32 (HISTORY, ROWS, channels): the last sub-blocks'
 * correlations on the stream's phase reference and their energies, a ring by sub-block index. A
 * sub-block's rows: FREQS real parts, FREQS imaginary parts, the energy. */
#define ROWS (2 * FREQS + 1)
#define ENERGY (2 * FREQS)
#define PERIOD 10    /* _PERIOD: rows of the phase-reference table */

/* A channel's recognition timing; dsp/mfr2.py _TIMING is the same record as a numpy dtype. */
struct timing {
    int32_t misses;   /* windows in a row without the current signal, up to MISSES_TO_RELEASE */
    int32_t current;  /* the signal recognised (0: none) */
    int32_t last;     /* the last window's signal (0: none) */
    int32_t run;      /* windows in a row holding it, up to HITS_TO_OPERATE */
};

struct constants {
    float weights[WINDOW];           /* _WEIGHTS */
    float turn[PERIOD][2 * FREQS];   /* _TURN[direction] */
    int8_t signal_of_pair[FREQS][FREQS];  /* _SIGNAL_OF_PAIR */
    float cos_tol_squared;           /* _COS_TOL squared */
    float back_scale;                /* -1 / _LAG_SUBS */
    float level_power;               /* _LEVEL_POWER */
    float twist;                     /* _TWIST */
    float third;                     /* _THIRD */
    float share;                     /* ENERGY_FRACTION * _ENERGY_SCALE */
    float fill;                      /* FILL_FRACTION / WINDOW_SUBS */
    float gate_level;                /* _GATE_LEVEL */
    float gate_share;                /* _GATE_SHARE */
    int hits;                        /* HITS_TO_OPERATE */
    int release;                     /* MISSES_TO_RELEASE */
};

static PyObject *constants(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"sub_samples", "window_subs", "lag_subs", "hits_to_operate", "misses_to_release",
                               "weights", "turn", "signal_of_pair", "cos_tol", "level_power", "twist", "third", "share",
                               "fill", "gate_level", "gate_share", NULL};
    int sub, window, lag;
    PyObject *weights_obj, *turn_obj, *pairs_obj;
    double cos_tol, level_power, twist, third, share, fill, gate_level, gate_share;
    struct constants c;
    (void)self;
    memset(&c, 0, sizeof c);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iiiiiOOOdddddddd:constants", keywords, &sub, &window, &lag,
                                     &c.hits, &c.release, &weights_obj, &turn_obj, &pairs_obj, &cos_tol,
                                     &level_power, &twist, &third, &share, &fill, &gate_level, &gate_share))
        return NULL;
    /* The sub-block, the window's layout and its phase advance (first two sub-blocks to last two) are
     * compiled in. */
    if (sub != SUB || window != WINDOW || lag != WINDOW - 2 || c.hits < 1 || c.release < 1) {
        PyErr_Format(PyExc_ValueError, "mfr2_kernel: expected window_subs %d, lag_subs %d, sub_samples %d, "
                     "hits_to_operate >= 1 and misses_to_release >= 1, got %d, %d, %d, %d, %d", WINDOW, WINDOW - 2,
                     SUB, window, lag, sub, c.hits, c.release);
        return NULL;
    }
    /* A tolerance under a quarter turn keeps the lag's real part positive, as turn_back() needs. */
    if (!(cos_tol > 0.0 && cos_tol < 1.0)) {
        PyErr_SetString(PyExc_ValueError, "mfr2_kernel: expected cos_tol in (0, 1)");
        return NULL;
    }
    Py_buffer weights, turn, pairs;
    if (take_array(weights_obj, KERNEL, "weights", "d", sizeof(double), WINDOW, 0, &weights) < 0)
        return NULL;
    for (int i = 0; i < WINDOW; i++)
        c.weights[i] = (float)((const double *)weights.buf)[i];
    PyBuffer_Release(&weights);
    if (take_array(turn_obj, KERNEL, "turn", "Zf", 2 * sizeof(float), PERIOD * FREQS, 0, &turn) < 0)
        return NULL;
    memcpy(c.turn, turn.buf, sizeof c.turn);
    PyBuffer_Release(&turn);
    if (take_array(pairs_obj, KERNEL, "signal_of_pair", "b", 1, FREQS * FREQS, 0, &pairs) < 0)
        return NULL;
    memcpy(c.signal_of_pair, pairs.buf, sizeof c.signal_of_pair);
    PyBuffer_Release(&pairs);
    c.cos_tol_squared = (float)(cos_tol * cos_tol);
    c.back_scale = (float)(-1.0 / lag);
    c.level_power = (float)level_power;
    c.twist = (float)twist;
    c.third = (float)third;
    c.share = (float)share;
    c.fill = (float)fill;
    c.gate_level = (float)gate_level;
    c.gate_share = (float)gate_share;
    return PyBytes_FromStringAndSize((const char *)&c, sizeof c);
}

/* Per-call scratch: each array holds a value per channel, or [n] values per channel. */
struct scratch {
    float *fresh;              /* [ROWS] the new sub-block, turned, and its energy */
    float *power;              /* [FREQS] the window's power at each frequency */
    float *total;              /* the six powers' sum */
    float *pair_share;         /* the pair's share of the window's energy, as a power */
    int32_t *gated;            /* passes the gate and the fill test */
    int32_t *rank;             /* a frequency's rank: the frequencies above it */
    int32_t *top[3];           /* the strongest frequency, the second, the third */
    /* The gated windows whose pair is within the frequency tolerance: candidate i's tones are 2 i
     * and 2 i + 1. */
    Py_ssize_t count;
    Py_ssize_t *channel;
    int32_t *signal;           /* the pair's signal */
    float *third;              /* the third frequency's power */
    float *share;              /* the pair's share of the window's energy, as a power */
    float *lag_re, *lag_im;    /* [2] by tone: the phase advance over the window */
    float *re[WINDOW], *im[WINDOW];  /* [2] by tone: its sub-blocks */
    float *step_re, *step_im;  /* [2] by tone: exp(-j advance / _LAG_SUBS) */
    float *turned_re, *turned_im;  /* [2] by tone: its sum with the frequency error turned back */
};

static void *scratch_alloc(struct scratch *b, Py_ssize_t channels)
{
    const size_t n = (size_t)channels;
    const size_t floats = ROWS + FREQS + 1 + 3 + 2 * (2 + 2 * WINDOW + 4);
    const size_t ints = 1 + 1 + 3 + 1;
    char *block = PyMem_Malloc(n * (floats * sizeof(float) + ints * sizeof(int32_t) + sizeof(Py_ssize_t)) + 1);
    if (!block)
        return PyErr_NoMemory();
    Py_ssize_t *index = (Py_ssize_t *)block;  /* the widest first, for alignment */
    b->channel = index;
    float *f = (float *)(index + n);
    b->fresh = f, f += ROWS * n;
    b->power = f, f += FREQS * n;
    b->total = f, f += n;
    b->pair_share = f, f += n;
    b->third = f, f += n;
    b->share = f, f += n;
    b->lag_re = f, f += 2 * n;
    b->lag_im = f, f += 2 * n;
    for (int i = 0; i < WINDOW; i++) {
        b->re[i] = f, f += 2 * n;
        b->im[i] = f, f += 2 * n;
    }
    b->step_re = f, f += 2 * n;
    b->step_im = f, f += 2 * n;
    b->turned_re = f, f += 2 * n;
    b->turned_im = f, f += 2 * n;
    int32_t *i32 = (int32_t *)f;
    b->gated = i32, i32 += n;
    b->rank = i32, i32 += n;
    for (int r = 0; r < 3; r++)
        b->top[r] = i32, i32 += n;
    b->signal = i32;
    return block;
}

/* The window's power at one frequency on every channel (its parts at rows `re` and `im` of the
 * sub-blocks `h`), into `power`, and added to `total`. */
static void window_power(const float *w, const float *const h[WINDOW], Py_ssize_t re, Py_ssize_t im,
                         float *restrict power, float *restrict total, Py_ssize_t channels)
{
    const float *restrict r0 = h[0] + re, *restrict r1 = h[1] + re, *restrict r2 = h[2] + re;
    const float *restrict r3 = h[3] + re, *restrict r4 = h[4] + re;
    const float *restrict i0 = h[0] + im, *restrict i1 = h[1] + im, *restrict i2 = h[2] + im;
    const float *restrict i3 = h[3] + im, *restrict i4 = h[4] + im;
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4];
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        const float sr = w0 * r0[ch] + w1 * r1[ch] + w2 * r2[ch] + w3 * r3[ch] + w4 * r4[ch];
        const float si = w0 * i0[ch] + w1 * i1[ch] + w2 * i2[ch] + w3 * i3[ch] + w4 * i4[ch];
        power[ch] = sr * sr + si * si;
        total[ch] += power[ch];
    }
}

/* The window of the sub-blocks `h` (oldest first, each [ROWS][channels]) on every channel: its
 * powers, the gate and the fill test, and the order of its frequencies; whether any channel passed. */
static int analyse_windows(const struct constants *c, const float *const h[WINDOW], Py_ssize_t channels,
                            struct scratch *b)
{
    const float w0 = c->weights[0], w1 = c->weights[1], w2 = c->weights[2], w3 = c->weights[3];
    const float w4 = c->weights[4];
    float *restrict total = b->total;
    memset(total, 0, (size_t)channels * sizeof(float));
    for (int f = 0; f < FREQS; f++) {
        const Py_ssize_t re = f * channels, im = (FREQS + f) * channels;
        window_power(c->weights, h, re, im, b->power + re, total, channels);
    }
    const Py_ssize_t e = ENERGY * channels;
    const float *restrict e0 = h[0] + e, *restrict e1 = h[1] + e, *restrict e2 = h[2] + e;
    const float *restrict e3 = h[3] + e, *restrict e4 = h[4] + e;
    const float gate_level = c->gate_level, gate_share = c->gate_share, fill = c->fill;
    int32_t *restrict gated = b->gated, any = 0;
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        const float weighted = w0 * e0[ch] + w1 * e1[ch] + w2 * e2[ch] + w3 * e3[ch] + w4 * e4[ch];
        const float sum = e0[ch] + e1[ch] + e2[ch] + e3[ch] + e4[ch];
        float least = e0[ch] < e1[ch] ? e0[ch] : e1[ch];
        least = least < e2[ch] ? least : e2[ch];
        least = least < e3[ch] ? least : e3[ch];
        least = least < e4[ch] ? least : e4[ch];
        /* _GATE_LEVEL, _GATE_SHARE: the six powers' sum against two tones at the level floor and the
         * pair's share of the window's energy; FILL_FRACTION: each sub-block carries its share. */
        gated[ch] = (total[ch] >= gate_level) & (total[ch] >= gate_share * weighted) & (least >= fill * sum);
        b->pair_share[ch] = c->share * weighted;
        any |= gated[ch];
    }
    if (!any)
        return 0;
    /* Each frequency's rank: the frequencies above it, on a tie the higher index above. */
    int32_t *restrict top0 = b->top[0], *restrict top1 = b->top[1], *restrict top2 = b->top[2];
    memset(top0, 0, (size_t)channels * sizeof(int32_t));
    memset(top1, 0, (size_t)channels * sizeof(int32_t));
    memset(top2, 0, (size_t)channels * sizeof(int32_t));
    int32_t *restrict rank = b->rank;
    for (int f = 0; f < FREQS; f++) {
        const float *pf = b->power + f * channels;
        memset(rank, 0, (size_t)channels * sizeof(int32_t));
        for (int g = 0; g < FREQS; g++) {
            const float *pg = b->power + g * channels;
            const int32_t above_on_tie = g > f;
            for (Py_ssize_t ch = 0; ch < channels; ch++)
                rank[ch] += (pg[ch] > pf[ch]) | ((pg[ch] == pf[ch]) & above_on_tie);
        }
        for (Py_ssize_t ch = 0; ch < channels; ch++) {
            top0[ch] += f * (rank[ch] == 0);
            top1[ch] += f * (rank[ch] == 1);
            top2[ch] += f * (rank[ch] == 2);
        }
    }
    return 1;
}

/* The gated windows whose pair is within the frequency tolerance, into the candidates. */
static void gather(const struct constants *c, const float *const h[WINDOW], Py_ssize_t channels,
                   struct scratch *b)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        if (!b->gated[ch])
            continue;
        const int pair[2] = {b->top[0][ch], b->top[1][ch]};
        int near = 1;
        for (int t = 0; t < 2; t++) {
            const Py_ssize_t re = pair[t] * channels + ch, im = (FREQS + pair[t]) * channels + ch;
            /* FREQ_TOL_HZ (_COS_TOL): the phase advance from the first two sub-blocks to the last two. */
            const float ar = h[4][re] + h[3][re], ai = h[4][im] + h[3][im];
            const float br = h[0][re] + h[1][re], bi = h[0][im] + h[1][im];
            const float lag_re = ar * br + ai * bi, lag_im = ai * br - ar * bi;
            near &= (lag_re > 0.0f) & (lag_re * lag_re >= c->cos_tol_squared * (lag_re * lag_re + lag_im * lag_im));
            b->lag_re[2 * n + t] = lag_re;
            b->lag_im[2 * n + t] = lag_im;
            for (int i = 0; i < WINDOW; i++) {
                b->re[i][2 * n + t] = h[i][re];
                b->im[i][2 * n + t] = h[i][im];
            }
        }
        b->channel[n] = ch;
        b->signal[n] = c->signal_of_pair[pair[0]][pair[1]];
        b->third[n] = b->power[b->top[2][ch] * channels + ch];
        b->share[n] = b->pair_share[ch];
        n += near;
    }
    b->count = n;
}

/* atan(a) for a in [0, 1]: odd polynomial fitted (Lawson's minimax iteration) on [0, 1], under
 * 1.5e-7 rad off in float arithmetic. */
static const float ATAN[] = {0.999999335589026f, -0.3332986080631962f, 0.19946565793105817f,
                             -0.13908629944842887f, 0.09642197821687487f, -0.0559123286852566f,
                             0.021862956814785665f, -0.004054566433643179f};
#define HALF_PI 1.5707963267948966f

/* Each gathered tone's sum with its frequency error turned back sub-block by sub-block (Horner in
 * the step exp(-j a / _LAG_SUBS), a the phase advance), so level, twist and share judge the whole
 * tone. The advance's real part is positive (the tolerance is under a quarter turn), so a is atan of
 * the smaller part over the larger, turned to the angle from the real axis without a branch (a select
 * there keeps the compiler from vectorising the loop); the step's angle is under pi / 6, its cosine
 * and sine taken to the 10th and 9th power (the next term under 1e-10). */
static void turn_back(const struct constants *c, struct scratch *b)
{
    const Py_ssize_t tones = 2 * b->count;
    const float back_scale = c->back_scale;
    const float *restrict lag_re = b->lag_re, *restrict lag_im = b->lag_im;
    float *restrict step_re = b->step_re, *restrict step_im = b->step_im;
    for (Py_ssize_t i = 0; i < tones; i++) {
        const float re = lag_re[i], im = lag_im[i], size = fabsf(im);
        const float a = (size < re ? size : re) / (size < re ? re : size), a2 = a * a;
        const float p = a * (ATAN[0] + a2 * (ATAN[1] + a2 * (ATAN[2] + a2 * (ATAN[3] + a2 * (ATAN[4]
                        + a2 * (ATAN[5] + a2 * (ATAN[6] + a2 * ATAN[7])))))));
        const float x = copysignf(fabsf(HALF_PI * (float)(size > re) - p), im) * back_scale, x2 = x * x;
        step_re[i] = 1.0f + x2 * (-1.0f / 2 + x2 * (1.0f / 24 + x2 * (-1.0f / 720 + x2 * (1.0f / 40320
                     + x2 * (-1.0f / 3628800)))));
        step_im[i] = x * (1.0f + x2 * (-1.0f / 6 + x2 * (1.0f / 120 + x2 * (-1.0f / 5040 + x2 * (1.0f / 362880)))));
    }
    memset(b->turned_re, 0, (size_t)tones * sizeof(float));
    memset(b->turned_im, 0, (size_t)tones * sizeof(float));
    for (int s = WINDOW - 1; s >= 0; s--) {
        const float w = c->weights[s];
        const float *restrict re = b->re[s], *restrict im = b->im[s];
        float *restrict turned_re = b->turned_re, *restrict turned_im = b->turned_im;
        for (Py_ssize_t i = 0; i < tones; i++) {
            const float r = turned_re[i] * step_re[i] - turned_im[i] * step_im[i];
            const float m = turned_re[i] * step_im[i] + turned_im[i] * step_re[i];
            turned_re[i] = r + w * re[i];
            turned_im[i] = m + w * im[i];
        }
    }
}

/* The signal gathered window `i` holds by the tests on its turned-back tones (0: none). */
static int confirm(const struct constants *c, const struct scratch *b, Py_ssize_t i)
{
    const float *re = b->turned_re + 2 * i, *im = b->turned_im + 2 * i;
    const float x = re[0] * re[0] + im[0] * im[0], y = re[1] * re[1] + im[1] * im[1];
    const float weak = x < y ? x : y, strong = x < y ? y : x;
    if (!(weak >= c->level_power))              /* LEVEL_MIN_DBM0 */
        return 0;
    if (!(strong <= c->twist * weak))           /* TWIST_MAX_DB */
        return 0;
    if (!(b->third[i] <= c->third * weak))      /* THIRD_TONE_DB */
        return 0;
    if (!(weak + strong >= b->share[i]))        /* ENERGY_FRACTION */
        return 0;
    return b->signal[i];
}

/* dsp/mfr2.py R2Event's fields. */
static PyObject *FIELDS[3];

/* type(channel, signal or None for 0, sample) appended to `list`. */
static int append_event(PyObject *list, PyTypeObject *type, Py_ssize_t channel, int signal, long long sample)
{
    PyObject *values[3] = {PyLong_FromSsize_t(channel), signal ? PyLong_FromLong(signal) : Py_NewRef(Py_None),
                           PyLong_FromLongLong(sample)};
    PyObject *event = frozen_event(type, FIELDS, values, 3);
    for (int i = 0; i < 3; i++)
        Py_XDECREF(values[i]);
    int failed = event == NULL || PyList_Append(list, event) < 0;
    Py_XDECREF(event);
    return failed ? -1 : 0;
}

/* One frequency's correlation of a sub-block on every channel (`z`, a channel's every `stride`
 * floats), turned by (tr, ti) to the stream's phase reference, into `re` and `im`. */
static void turn_fresh(const float *restrict z, Py_ssize_t stride, float tr, float ti, float *restrict re,
                       float *restrict im, Py_ssize_t channels)
{
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        const float zr = z[ch * stride], zi = z[ch * stride + 1];
        re[ch] = zr * tr - zi * ti;
        im[ch] = zr * ti + zi * tr;
    }
}

/* A sub-block's energy on every channel (its samples `x`, a channel's every `stride` floats), into
 * `energy`: the squares summed in four interleaved sums, the compiler's vector lanes. */
static void sub_energy(const float *restrict x, Py_ssize_t stride, float *restrict energy, Py_ssize_t channels)
{
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        const float *s = x + ch * stride;
        float sum[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int i = 0; i < SUB; i += 4)
            for (int j = 0; j < 4; j++)
                sum[j] += s[i + j] * s[i + j];
        energy[ch] = (sum[0] + sum[1]) + (sum[2] + sum[3]);
    }
}

/* receive(history, timing, correlations, samples, constants, first, R2Event) -> [R2Event(channel, signal
 * or None for the end, sample), ...] in stream order, at each sample the ends first, then the signals,
 * each by channel; `samples` are float32 (channels, k * SUB), the correlations those of their k
 * sub-blocks. */
static PyObject *receive(PyObject *self, PyObject *args)
{
    PyObject *history_obj, *timing_obj, *z_obj, *x_obj;
    PyTypeObject *event;
    Py_buffer consts;
    long long first;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOy*LO!:receive", &history_obj, &timing_obj, &z_obj, &x_obj, &consts, &first,
                          &PyType_Type, &event))
        return NULL;
    if (consts.len != (Py_ssize_t)sizeof(struct constants) || first < 0) {
        PyBuffer_Release(&consts);
        PyErr_SetString(PyExc_ValueError, "mfr2_kernel.receive: expected constants() and a first sub-block >= 0");
        return NULL;
    }
    struct constants c;
    memcpy(&c, consts.buf, sizeof c);
    PyBuffer_Release(&consts);

    Py_buffer timing_buf, history_buf, z, x;
    if (take_array(timing_obj, KERNEL, "timing", NULL, sizeof(struct timing), -1, 1, &timing_buf) < 0)
        return NULL;
    const Py_ssize_t channels = timing_buf.len / (Py_ssize_t)sizeof(struct timing);
    if (take_array(history_obj, KERNEL, "history", NULL, sizeof(float), HISTORY * ROWS * channels, 1,
                   &history_buf) < 0) {
        PyBuffer_Release(&timing_buf);
        return NULL;
    }
    if (take_array(x_obj, KERNEL, "samples", NULL, sizeof(float), -1, 0, &x) < 0) {
        PyBuffer_Release(&history_buf);
        PyBuffer_Release(&timing_buf);
        return NULL;
    }
    const Py_ssize_t k = channels ? x.len / (Py_ssize_t)sizeof(float) / channels / SUB : 0;
    if (x.len != channels * k * SUB * (Py_ssize_t)sizeof(float)) {
        PyErr_Format(PyExc_ValueError, "mfr2_kernel.receive: expected samples of %zd channels, whole sub-blocks of %d",
                     channels, SUB);
        PyBuffer_Release(&x);
        PyBuffer_Release(&history_buf);
        PyBuffer_Release(&timing_buf);
        return NULL;
    }
    if (take_array(z_obj, KERNEL, "correlations", NULL, sizeof(float), channels * k * 2 * FREQS, 0, &z) < 0) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&history_buf);
        PyBuffer_Release(&timing_buf);
        return NULL;
    }

    struct timing *timing = timing_buf.buf;
    float *history = history_buf.buf;
    const float *zs = z.buf, *xs = x.buf;
    struct scratch b = {0};
    void *block = scratch_alloc(&b, channels);
    PyObject *found = PyList_New(0), *operated = PyList_New(0);
    int failed = !block || !found || !operated;
    for (Py_ssize_t win = 0; win < k && !failed; win++) {
        const long long n = first + win;  /* the new sub-block's index in the stream */
        const int slot = (int)(n % HISTORY);  /* where sub-block n - HISTORY is, and n goes */
        const float *turn = c.turn[n % PERIOD];
        /* _TURN: the sub-block's correlation counts phase from its own first sample. */
        for (int f = 0; f < FREQS; f++)
            turn_fresh(zs + win * 2 * FREQS + 2 * f, 2 * FREQS * k, turn[2 * f], turn[2 * f + 1],
                       b.fresh + f * channels, b.fresh + (FREQS + f) * channels, channels);
        sub_energy(xs + win * SUB, k * SUB, b.fresh + ENERGY * channels, channels);
        const float *h[WINDOW];
        for (int i = 0; i < HISTORY; i++)
            h[i] = history + (Py_ssize_t)((slot + i) % HISTORY) * ROWS * channels;
        h[HISTORY] = b.fresh;
        b.count = 0;
        if (analyse_windows(&c, h, channels, &b))
            gather(&c, h, channels, &b);
        turn_back(&c, &b);
        memcpy(history + (Py_ssize_t)slot * ROWS * channels, b.fresh, ROWS * (size_t)channels * sizeof(float));

        Py_ssize_t next = 0;  /* the next candidate, by channel */
        for (Py_ssize_t ch = 0; ch < channels && !failed; ch++) {
            struct timing *s = &timing[ch];
            int label = 0;
            if (next < b.count && b.channel[next] == ch)
                label = confirm(&c, &b, next++);
            /* HITS_TO_OPERATE windows in a row with the same signal operate it, unless it is the
             * current one; MISSES_TO_RELEASE in a row without the current one release it. */
            if (label != 0 && label == s->last) {
                if (s->run < c.hits)
                    s->run++;
            } else {
                s->run = label != 0;
            }
            s->last = label;
            if (label == s->current)
                s->misses = 0;
            else if (s->misses < c.release)
                s->misses++;
            const int operate = s->run >= c.hits && label != s->current;
            if (!operate && !(s->current != 0 && s->misses >= c.release))
                continue;
            if (s->current != 0)
                failed = append_event(found, event, ch, 0, (first + win + 1) * SUB) < 0;
            if (operate && !failed)
                failed = append_event(operated, event, ch, label, (first + win + 1) * SUB) < 0;
            s->current = operate ? label : 0;
            s->misses = 0;
        }
        if (!failed && PyList_GET_SIZE(operated)) {
            failed = PyList_SetSlice(found, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, operated) < 0
                     || PyList_SetSlice(operated, 0, PY_SSIZE_T_MAX, NULL) < 0;
        }
    }
    PyMem_Free(block);
    PyBuffer_Release(&z);
    PyBuffer_Release(&x);
    PyBuffer_Release(&history_buf);
    PyBuffer_Release(&timing_buf);
    Py_XDECREF(operated);
    if (failed) {
        Py_XDECREF(found);
        return NULL;
    }
    return found;
}

static PyMethodDef methods[] = {
    {"constants", (PyCFunction)(void (*)(void))constants, METH_VARARGS | METH_KEYWORDS,
     "The receiver's figures packed for receive()."},
    {"receive", receive, METH_VARARGS,
     "receive(history, timing, correlations, samples, constants, first, event) -> [event, ...]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "mfr2_kernel", .m_size = 0,
                                    .m_methods = methods};

PyMODINIT_FUNC PyInit_mfr2_kernel(void)
{
    static const char *names[] = {"channel", "signal", "sample"};
    for (int i = 0; i < 3; i++)
        if (!FIELDS[i] && !(FIELDS[i] = PyUnicode_InternFromString(names[i])))
            return NULL;
    return PyModule_Create(&module);
}

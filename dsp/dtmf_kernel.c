/* The DTMF receiver's per-tick decisions (dsp/dtmf.py DtmfDetector): from numpy's sub-block correlations
   and the samples, every channel's sub-block energies, analysis windows, their tests and the digit timing,
   in one call.

   Every threshold is a figure of dsp/dtmf.py or dsp/dtmf_tables.py, handed over once by constants();
   each test below names the Python constant it applies, where the clause it comes from is cited. */
#include "kernel_support.h"
#include <math.h>
#include <stdint.h>

/* The analysis grid (constants() checks it against dsp/dtmf.py's): sub-blocks of SUB samples
   (dsp.blocks SUB), windows of WIN_SUBS of them (dsp.dtmf WIN_SUBS: the halves and the four-term sum in
   confirm() are written for four), each sub-block correlated with the 4 row then 4 column tones
   (dsp.tonegen DTMF_LOW + DTMF_HIGH): COLS values, the real parts then the imaginary (dsp.dtmf _BASES). */
#define KERNEL "dtmf_kernel"
#define SUB 40
#define WIN_SUBS 4
#define KEPT (WIN_SUBS - 1) /* sub-blocks a channel keeps for the windows of the next call */
#define GROUP 4
#define TONES (2 * GROUP)
#define COLS (2 * TONES)
#define DIGITS (GROUP * GROUP) /* labels 1..DIGITS */
#define UNFILLED (SUB / 2) /* dsp.dtmf _UNFILLED_AT: the edge test keeps the unfilled part to half */

struct constants {
    float peak_share;             /* dsp.dtmf _PEAK_SHARE (RELATIVE_PEAK_DB) */
    float level_power;            /* dsp.dtmf _LEVEL_POWER (LEVEL_MIN_DBM0) */
    double cos_tol[TONES];        /* the cosine of dsp.dtmf _PHASE_TOL, by tone (FREQ_TOL) */
    double twist_min, twist_max;  /* dsp.dtmf _TWIST_MIN, _TWIST_MAX (TWIST_MIN_DB, TWIST_MAX_DB) */
    double tone_share;            /* dsp.dtmf _TONE_SHARE (ENERGY_FRACTION) */
    double edge_ratio;            /* dsp.dtmf EDGE_POWER_RATIO */
    double unfilled_at[UNFILLED]; /* dsp.dtmf _UNFILLED_AT */
    int hits_to_report, misses_to_drop, misses_to_end; /* dsp.dtmf_tables, the same names */
};

/* One channel, as dsp/dtmf.py _STATE lays it out: the energies of the last KEPT sub-blocks (oldest
   first; their phasors stay at the head of the detector's store), dsp/dtmf_tables.py Track's fields with
   digits as labels (1 + the digit, 0: none), the sample the channel's reset came at. */
struct channel {
    double energy[KEPT];
    int32_t cur, hits, misses, reported, cand, cand_hits;
    int64_t start, cand_start, origin;
};

/* 1 + the index of the one flag set of a group's GROUP, 0 unless exactly one is. */
static const int8_t one_of[1 << GROUP] = {0, 1, 2, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};

/* Into `labels` (one per channel) the label of the windows ending with new sub-block w of the store by
   the nominal-frequency tests, 1 + the digit if exactly one tone of each group passes both, else 0:
   level (dsp.dtmf _LEVEL_POWER) and relative peak, the tone's power summed over the window's sub-blocks
   against its group's (dsp.dtmf _PEAK_SHARE, over one half, so at most one per group passes). Without
   branches: which tones pass varies from channel to channel. */
static void gate(const float *store, Py_ssize_t w, Py_ssize_t channels, const struct constants *k,
                 float *restrict power, int64_t *restrict labels)
{
    Py_ssize_t row = channels * COLS;
    const float *s0 = store + w * row, *s1 = s0 + row, *s2 = s1 + row, *s3 = s2 + row;
    for (Py_ssize_t ch = 0; ch < channels; ch++, s0 += COLS, s1 += COLS, s2 += COLS, s3 += COLS) {
        for (int t = 0; t < TONES; t++) {
            float re = (s0[t] + s1[t]) + (s2[t] + s3[t]);
            float im = (s0[TONES + t] + s1[TONES + t]) + (s2[TONES + t] + s3[TONES + t]);
            power[ch * TONES + t] = re * re + im * im;
        }
    }
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        unsigned flags = 0;
        for (int g = 0; g < 2; g++) {
            const float *p = power + ch * TONES + g * GROUP;
            float floor = k->peak_share * ((p[0] + p[1]) + (p[2] + p[3]));
            floor = floor > k->level_power ? floor : k->level_power;
            for (int t = 0; t < GROUP; t++)
                flags |= (unsigned)(p[t] >= floor) << (g * GROUP + t);
        }
        int row_tone = one_of[flags % (1 << GROUP)], column_tone = one_of[flags >> GROUP];
        labels[ch] = row_tone && column_tone ? 1 + GROUP * (row_tone - 1) + column_tone - 1 : 0;
    }
}

/* Whether a gated window of `label` passes the frequency, twist, energy and edge tests, and in
   *unfilled the samples of its first sub-block its tone did not fill. Each test is computed for both
   tones at once and all are combined before the one branch: which windows pass varies from channel
   to channel, so a branch per test would be mispredicted often. */
static int confirm(const float *const sub[WIN_SUBS], const double energy[WIN_SUBS], int label,
                   const struct constants *k, int *unfilled)
{
    const int tones[2] = {(label - 1) / GROUP, GROUP + (label - 1) % GROUP};
    double re[WIN_SUBS][2], im[WIN_SUBS][2], tone_power[2], sub_power[WIN_SUBS];
    for (int s = 0; s < WIN_SUBS; s++) {
        for (int g = 0; g < 2; g++) {
            re[s][g] = sub[s][tones[g]];
            im[s][g] = sub[s][TONES + tones[g]];
        }
        sub_power[s] = re[s][0] * re[s][0] + im[s][0] * im[s][0] + re[s][1] * re[s][1] + im[s][1] * im[s][1];
    }
    int pass = 1;
    for (int g = 0; g < 2; g++) {
        /* Phase advance per sub-block (dsp.dtmf FREQ_TOL, _PHASE_TOL). Fine: between the two 10 ms
           halves of the window, where the other tone leaks in about 20 dB lower, but ambiguous beyond
           +-50 Hz. Coarse: from consecutive 5 ms sub-blocks, unambiguous to +-100 Hz but 40 samples do
           not separate the row tone from the column tone, so up to 8 dB of twist pulls it. The advance
           is the fine value on the branch nearest the coarse one; any other branch is more than the
           tolerance (under a quarter turn) away from zero, so a window passes only if the coarse value
           lies within a quarter turn of the fine one and the fine one within the tolerance. The first
           half times the second's conjugate is |f| exp(-j a), a the advance over two sub-blocks in
           (-pi, pi]; its sum with |f| lies on the bisector, so normalised it is exp(-j a / 2), the
           advance turned back, halved without trigonometry. A window with an empty half has none: a
           zero phasor, which fails. */
        double h0r = re[0][g] + re[1][g], h0i = im[0][g] + im[1][g];
        double h1r = re[2][g] + re[3][g], h1i = im[2][g] + im[3][g];
        double fr = h0r * h1r + h0i * h1i, fi = h0i * h1r - h0r * h1i;
        fr += sqrt(fr * fr + fi * fi);
        double size = sqrt(fr * fr + fi * fi);
        double scale = size > 0.0 ? 1.0 / size : 0.0;
        double ur = fr * scale, ui = fi * scale;
        double lr = 0.0, li = 0.0; /* the coarse lag: each sub-block times the previous one's conjugate */
        for (int s = 1; s < WIN_SUBS; s++) {
            lr += re[s][g] * re[s - 1][g] + im[s][g] * im[s - 1][g];
            li += im[s][g] * re[s - 1][g] - re[s][g] * im[s - 1][g];
        }
        pass &= (ur >= k->cos_tol[tones[g]]) & (lr * ur - li * ui >= 0.0);
        /* Derotated by the measured frequency offset (Horner in the unit phasor), so the tests below
           use the tone's full power. */
        double tr = re[WIN_SUBS - 1][g], ti = im[WIN_SUBS - 1][g];
        for (int s = WIN_SUBS - 2; s >= 0; s--) {
            double t = tr * ur - ti * ui + re[s][g];
            ti = tr * ui + ti * ur + im[s][g];
            tr = t;
        }
        tone_power[g] = tr * tr + ti * ti;
    }
    /* Twist, column over row (dsp.dtmf _TWIST_MIN, _TWIST_MAX). */
    pass &= (tone_power[1] >= k->twist_min * tone_power[0]) & (tone_power[1] <= k->twist_max * tone_power[0]);
    /* The two tones' share of the window's energy (dsp.dtmf _TONE_SHARE). */
    double window_energy = (energy[0] + energy[1]) + (energy[2] + energy[3]);
    pass &= tone_power[0] + tone_power[1] >= k->tone_share * window_energy;
    /* Edge coverage: the first and last sub-block against the middle two's mean (dsp.dtmf
       EDGE_POWER_RATIO). */
    double middle = sub_power[1] + sub_power[2];
    pass &= (sub_power[0] >= 0.5 * k->edge_ratio * middle) & (sub_power[3] >= 0.5 * k->edge_ratio * middle);
    /* Unfilled samples of the first sub-block: the u whose threshold the middle two reach (dsp.dtmf
       _UNFILLED_AT; a first sub-block with no power counts as empty). The thresholds rise with u
       (constants() checks), so those reached are the first few: found by halving. */
    int reached = 0;
    for (int left = UNFILLED; left > 0;) {
        int half = left / 2, up = middle >= k->unfilled_at[reached + half] * sub_power[0];
        reached = up ? reached + half + 1 : reached;
        left = up ? left - half - 1 : half;
    }
    *unfilled = reached;
    return pass;
}

/* One window of dsp/dtmf_tables.py Track.step for one channel: its label (0: no valid signal) and
   where such a tone began; whether the channel's digit is reported at this window. */
static int step(struct channel *c, int32_t label, int64_t est, const struct constants *k)
{
    int same = label != 0 && label == c->cur;
    int other = label != 0 && !same;
    int hit = same;
    if (other && !c->reported) {
        /* Before the report a different digit simply takes over. */
        c->cur = label;
        c->hits = 0;
        c->start = est;
        hit = 1;
    }
    if (other && c->reported) {
        /* After it, it must win on its own: HITS_TO_REPORT windows in a row. */
        if (label == c->cand) {
            c->cand_hits++;
        } else {
            c->cand = label;
            c->cand_hits = 1;
            c->cand_start = est;
        }
        if (c->cand_hits >= k->hits_to_report) {
            c->cur = c->cand;
            c->hits = c->cand_hits - 1;
            c->start = c->cand_start;
            c->reported = 0;
            c->cand = 0;
            c->cand_hits = 0;
            hit = 1;
        }
    } else {
        c->cand = 0;
        c->cand_hits = 0;
    }
    if (hit) {
        /* Hits only matter up to the report; the cap keeps a stuck tone from overflowing. */
        if (c->hits < k->hits_to_report)
            c->hits++;
        c->misses = 0;
        if (!c->reported && c->hits >= k->hits_to_report) {
            c->reported = 1;
            return 1;
        }
    } else if (c->cur) {
        /* A candidate drops after MISSES_TO_DROP windows in a row without it, a digit ends after
           MISSES_TO_END. */
        c->misses++;
        if (c->misses >= (c->reported ? k->misses_to_end : k->misses_to_drop)) {
            c->cur = 0;
            c->hits = 0;
            c->misses = 0;
            c->reported = 0;
        }
    }
    return 0;
}

/* What a key press becomes: the tuple (channel, label, start), or, given `event` (detect(): dsp.dtmf
   DtmfEvent, a frozen dataclass), an instance with the fields channel, digit (`digits` by label - 1) and
   start. */
struct reports {
    PyObject *list, *event, *digits;
};

static PyObject *field_names[3]; /* "channel", "digit", "start" (module init) */

static PyObject *report(Py_ssize_t ch, int32_t label, int64_t start, const struct reports *out)
{
    PyObject *fields[3] = {PyLong_FromSsize_t(ch), NULL, PyLong_FromLongLong(start)};
    PyObject *item = NULL;
    if (out->event == NULL) {
        fields[1] = PyLong_FromLong(label);
        item = fields[0] && fields[1] && fields[2] ? PyTuple_Pack(3, fields[0], fields[1], fields[2]) : NULL;
    } else {
        fields[1] = PyTuple_GetItem(out->digits, label - 1);
        Py_XINCREF(fields[1]);
        item = frozen_event((PyTypeObject *)out->event, field_names, fields, 3);
    }
    for (int f = 0; f < 3; f++)
        Py_XDECREF(fields[f]);
    return item;
}

/* Runs step() over windows' labels and start estimates (windows x channels; an estimate is read only
   where its label is not 0) and appends each key press to `out`, in window then channel order; -1 on a
   Python error. */
static int run_timing(struct channel *chans, Py_ssize_t channels, const int64_t *labels, const int64_t *ests,
                      Py_ssize_t n, const struct constants *k, const struct reports *out)
{
    for (Py_ssize_t i = 0, ch = 0; i < n; i++, ch = ch + 1 < channels ? ch + 1 : 0) {
        struct channel *c = &chans[ch];
        if (step(c, (int32_t)labels[i], labels[i] ? ests[i] : 0, k)) {
            PyObject *item = report(ch, c->cur, c->start, out);
            int failed = item == NULL || PyList_Append(out->list, item) < 0;
            Py_XDECREF(item);
            if (failed)
                return -1;
        }
    }
    return 0;
}

/* Points `sub` and `e` at the tone phasors and energies of the window on channel `ch` that ends with new
   sub-block w: the store holds the phasors of the KEPT sub-blocks before the new ones, then theirs; the
   channel keeps the energies before them. */
static void window(const struct channel *c, Py_ssize_t ch, Py_ssize_t w, const float *store, const double *energy,
                   Py_ssize_t channels, Py_ssize_t windows, const float *sub[WIN_SUBS], double e[WIN_SUBS])
{
    for (int i = 0; i < WIN_SUBS; i++) {
        sub[i] = store + ((w + i) * channels + ch) * COLS;
        e[i] = w + i < KEPT ? c->energy[w + i] : energy[ch * windows + w + i - KEPT];
    }
}

/* Into `energy` (channels x sub-blocks): each sub-block's sum of squares of `x` (channels x sub-blocks x
   SUB). In double, exact for int16 samples (40 squares under 2^36), so the order of the sum does not
   matter: eight running sums, which the compiler vectorises and whose additions do not wait on each
   other. */
static void sub_energies(const float *restrict x, Py_ssize_t subs, double *restrict energy)
{
    for (Py_ssize_t i = 0; i < subs; i++) {
        double acc[8] = {0.0};
        for (int n = 0; n < SUB / 8; n++) {
            const float *v = x + i * SUB + 8 * n;
            for (int j = 0; j < 8; j++) {
                double d = v[j];
                acc[j] += d * d;
            }
        }
        energy[i] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
}

/* The receiver's state (dsp.dtmf _STATE, one item per channel) and constants() into their views; the
   channel count, or -1 with a ValueError. */
static Py_ssize_t take_receiver(PyObject *state, Py_buffer *state_view, PyObject *constants,
                                Py_buffer *constants_view)
{
    Py_ssize_t channels = take_array(state, KERNEL, "state (dsp.dtmf _STATE)", NULL, sizeof(struct channel), -1, 1,
                                     state_view);
    if (channels < 0 || take_array(constants, KERNEL, "constants (dtmf_kernel.constants())", NULL, 1,
                                   sizeof(struct constants), 0, constants_view) < 0)
        return -1;
    if (channels == 0) {
        PyErr_SetString(PyExc_ValueError, "dtmf_kernel: state (dsp.dtmf _STATE): expected a channel at least");
        return -1;
    }
    return channels;
}

static PyObject *detect(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *state_obj, *store_obj, *samples_obj, *constants_obj, *event, *digits;
    long long first;
    if (!PyArg_ParseTuple(args, "OOOOLO!O!", &state_obj, &store_obj, &samples_obj, &constants_obj, &first,
                          &PyType_Type, &event, &PyTuple_Type, &digits))
        return NULL;
    if (PyTuple_Size(digits) != DIGITS) {
        PyErr_Format(PyExc_ValueError, "dtmf_kernel: digits: expected %d, by label - 1", DIGITS);
        return NULL;
    }
    Py_buffer state = {0}, stored = {0}, samples = {0}, constants = {0};
    PyObject *reports = NULL;
    int64_t *labels = NULL;
    Py_ssize_t channels = take_receiver(state_obj, &state, constants_obj, &constants);
    Py_ssize_t floats = channels < 0 ? -1
                        : take_array(store_obj, KERNEL, "store (float32)", NULL, sizeof(float), -1, 1, &stored);
    if (floats < 0)
        goto done;
    if (floats % (channels * COLS) || floats / (channels * COLS) < KEPT) {
        PyErr_Format(PyExc_ValueError, "dtmf_kernel: store: expected (%d + sub-blocks, %zd, %d) float32, got %zd "
                     "floats", KEPT, channels, COLS, floats);
        goto done;
    }
    Py_ssize_t windows = floats / (channels * COLS) - KEPT, n = windows * channels;
    if (take_array(samples_obj, KERNEL, "samples (float32, channels x sub-blocks x SUB)", NULL, sizeof(float),
                   n * SUB, 0, &samples)
        < 0)
        goto done;
    /* Labels and start estimates (windows x channels), the gated windows' (window, channel), the new
       sub-blocks' energies (channels x windows), then the tones' power in one window of every channel. */
    labels = PyMem_Malloc(5 * n * sizeof(int64_t) + channels * TONES * sizeof(float));
    reports = labels ? PyList_New(0) : PyErr_NoMemory();
    if (reports == NULL)
        goto done;
    int64_t *ests = labels + n, *gated = ests + n, *end = gated;
    double *energy = (double *)(gated + 2 * n), e[WIN_SUBS];
    float *power = (float *)(energy + n);
    struct channel *chans = state.buf;
    float *store = stored.buf;
    const float *sub[WIN_SUBS];
    const struct constants *k = constants.buf;
    sub_energies(samples.buf, n, energy);
    /* Three passes, each without the others' branches: the gate, the fine tests of the windows it
       passes (about half of them during dialling, in no pattern from channel to channel), the timing.
       Window w ends with new sub-block w: windows, then channels, as the reports come out. */
    for (Py_ssize_t w = 0; w < windows; w++) {
        gate(store, w, channels, k, power, labels + w * channels);
        for (Py_ssize_t ch = 0; ch < channels; ch++) {
            end[0] = w;
            end[1] = ch;
            end += labels[w * channels + ch] ? 2 : 0;
        }
    }
    for (const int64_t *g = gated; g < end; g += 2) {
        Py_ssize_t w = g[0], ch = g[1], i = w * channels + ch;
        const struct channel *c = &chans[ch];
        int unfilled;
        window(c, ch, w, store, energy, channels, windows, sub, e);
        labels[i] *= confirm(sub, e, (int)labels[i], k, &unfilled);
        /* The tone began inside the window's first sub-block, after the part it did not fill; counted
           from the channel's reset, and one that began before the reset from the reset. */
        int64_t est = (first + w - KEPT) * SUB + unfilled - c->origin;
        ests[i] = est > 0 ? est : 0;
    }
    struct reports out = {reports, event, digits};
    if (run_timing(chans, channels, labels, ests, n, k, &out) < 0) {
        Py_CLEAR(reports);
        goto done;
    }
    /* The last KEPT sub-blocks for the next call: phasors to the store's head, energies to the channels. */
    memmove(store, store + windows * channels * COLS, KEPT * channels * COLS * sizeof(float));
    for (Py_ssize_t ch = 0; ch < channels; ch++) {
        double *kept = chans[ch].energy, last[KEPT];
        for (Py_ssize_t i = 0; i < KEPT; i++)
            last[i] = windows + i < KEPT ? kept[windows + i] : energy[ch * windows + windows + i - KEPT];
        memcpy(kept, last, sizeof last);
    }
done:
    PyMem_Free(labels);
    PyBuffer_Release(&state);
    PyBuffer_Release(&stored);
    PyBuffer_Release(&samples);
    PyBuffer_Release(&constants);
    return reports;
}

static PyObject *track(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *state_obj, *labels_obj, *ests_obj, *constants_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &state_obj, &labels_obj, &ests_obj, &constants_obj))
        return NULL;
    Py_buffer state = {0}, labels = {0}, ests = {0}, constants = {0};
    PyObject *reports = NULL;
    Py_ssize_t channels = take_receiver(state_obj, &state, constants_obj, &constants);
    Py_ssize_t n = channels < 0 ? -1
                   : take_array(labels_obj, KERNEL, "labels (int64)", NULL, sizeof(int64_t), -1, 0, &labels);
    if (n < 0 || take_array(ests_obj, KERNEL, "estimates (int64, as labels)", NULL, sizeof(int64_t), n, 0, &ests)
                 < 0)
        goto done;
    const int64_t *label = labels.buf;
    int fits = n % channels == 0;
    for (Py_ssize_t i = 0; fits && i < n; i++)
        fits = label[i] >= 0 && label[i] <= DIGITS;
    if (!fits) {
        PyErr_Format(PyExc_ValueError, "dtmf_kernel: labels: expected (windows, %zd) in 0..%d", channels, DIGITS);
        goto done;
    }
    reports = PyList_New(0);
    struct reports out = {reports, NULL, NULL};
    if (reports != NULL && run_timing(state.buf, channels, label, ests.buf, n, constants.buf, &out) < 0)
        Py_CLEAR(reports);
done:
    PyBuffer_Release(&state);
    PyBuffer_Release(&labels);
    PyBuffer_Release(&ests);
    PyBuffer_Release(&constants);
    return reports;
}

/* Reads `n` floats from the sequence `seq` into `out`; -1 with a ValueError naming `what`. */
static int doubles(PyObject *seq, double *out, Py_ssize_t n, const char *what)
{
    PyObject *fast = PySequence_Fast(seq, what);
    if (fast == NULL)
        return -1;
    if (PySequence_Fast_GET_SIZE(fast) != n) {
        PyErr_Format(PyExc_ValueError, "dtmf_kernel.constants: %s: expected %zd values, got %zd", what, n,
                     PySequence_Fast_GET_SIZE(fast));
        Py_DECREF(fast);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
    Py_DECREF(fast);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *constants(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *names[] = {"sub", "win_subs", "peak_share", "level_power", "cos_tol", "twist_min", "twist_max",
                            "tone_share", "edge_ratio", "unfilled_at", "hits_to_report", "misses_to_drop",
                            "misses_to_end", NULL};
    struct constants k;
    memset(&k, 0, sizeof k); /* the padding too: the same figures give the same bytes */
    Py_ssize_t sub, win_subs;
    double peak_share, level_power;
    PyObject *cos_tol, *unfilled_at;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nnddOddddOiii", names, &sub, &win_subs, &peak_share,
                                     &level_power, &cos_tol, &k.twist_min, &k.twist_max, &k.tone_share,
                                     &k.edge_ratio, &unfilled_at, &k.hits_to_report, &k.misses_to_drop,
                                     &k.misses_to_end))
        return NULL;
    if (sub != SUB || win_subs != WIN_SUBS) {
        PyErr_Format(PyExc_ValueError, "dtmf_kernel.constants: built for %d-sample sub-blocks, %d to a window; "
                     "got %zd and %zd", SUB, WIN_SUBS, sub, win_subs);
        return NULL;
    }
    if (doubles(cos_tol, k.cos_tol, TONES, "cos_tol") < 0
        || doubles(unfilled_at, k.unfilled_at, UNFILLED, "unfilled_at") < 0)
        return NULL;
    for (int u = 1; u < UNFILLED; u++) {
        if (!(k.unfilled_at[u] > k.unfilled_at[u - 1])) {
            PyErr_SetString(PyExc_ValueError, "dtmf_kernel.constants: unfilled_at: expected rising thresholds");
            return NULL;
        }
    }
    k.peak_share = (float)peak_share;
    k.level_power = (float)level_power;
    return PyBytes_FromStringAndSize((const char *)&k, sizeof k);
}

static PyMethodDef methods[] = {
    {"constants", (PyCFunction)(void (*)(void))constants, METH_VARARGS | METH_KEYWORDS,
     "constants(**figures) -> bytes: the receiver's thresholds, for detect() and track()."},
    {"detect", detect, METH_VARARGS,
     "detect(state, store, samples, constants, first, event, digits) -> [event]: the windows ending in the "
     "new sub-blocks (the store's after its first WIN_SUBS - 1, correlations of the float32 `samples`, "
     "channels x sub-blocks x SUB; sub-block index `first` on), tested and timed; the key presses completed, "
     "as `event`s (channel, digit: `digits` by label - 1, start). Leaves the last WIN_SUBS - 1 at the store's "
     "head."},
    {"track", track, METH_VARARGS,
     "track(state, labels, ests, constants) -> [(channel, label, start)]: the digit timing alone, "
     "over windows' labels and start estimates (windows x channels, int64)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "dtmf_kernel", .m_size = 0, .m_methods = methods};

PyMODINIT_FUNC PyInit_dtmf_kernel(void)
{
    static const char *const names[3] = {"channel", "digit", "start"};
    for (int f = 0; f < 3; f++) {
        if (field_names[f] == NULL && (field_names[f] = PyUnicode_InternFromString(names[f])) == NULL)
            return NULL;
    }
    return PyModule_Create(&module);
}

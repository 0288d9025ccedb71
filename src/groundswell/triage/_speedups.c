/* Compiled forms of the triage featurizer's two hottest loops (optional).
 *
 * `analyze_tokens` is `groundswell.triage.features.analyze_tokens`, and `language_scores`
 * is the byte loop of `groundswell.triage.language.LanguageModel.identify`, written against
 * the CPython API. Both give exactly what the Python code gives (tests/triage/test_speedups.py
 * compares them on real tweets and on generated text); the package uses the Python code when
 * this module could not be built (no C compiler at install time).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Float sums must round as numpy's do: no excess precision (x87 without SSE2). Failing here
 * only means the build is skipped and the Python code runs. */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "float arithmetic with excess precision: the compiled loops would differ from numpy"
#endif

/* Set once by `setup` from features.py's constants. */
static PyObject *quiet_set = NULL;      /* frozenset */
static PyObject *clause_end_set = NULL; /* frozenset */
static PyObject *shown_marks_set = NULL;
static PyObject *negators_set = NULL;
static PyObject *valence_tokens = NULL; /* tuple of 9 str, valence -4..+4 */
static PyObject *str_bang = NULL;       /* "!" */
static PyObject *str_start = NULL;      /* "<s>" */
static PyObject *str_end = NULL;        /* "</s>" */
static PyObject *str_not = NULL;        /* "¬" */
static PyObject *str_stem = NULL;       /* "~" */

static PyObject *
setup(PyObject *self, PyObject *args)
{
    PyObject *q, *c, *s, *n, *v;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!", &PyFrozenSet_Type, &q, &PyFrozenSet_Type, &c,
                          &PyFrozenSet_Type, &s, &PyFrozenSet_Type, &n, &PyTuple_Type, &v))
        return NULL;
    if (PyTuple_GET_SIZE(v) != 9) {
        PyErr_SetString(PyExc_ValueError, "valence tokens: 9 expected");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < 9; i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(v, i))) {
            PyErr_SetString(PyExc_TypeError, "valence tokens must be str");
            return NULL;
        }
    }
    Py_INCREF(q);
    Py_XSETREF(quiet_set, q);
    Py_INCREF(c);
    Py_XSETREF(clause_end_set, c);
    Py_INCREF(s);
    Py_XSETREF(shown_marks_set, s);
    Py_INCREF(n);
    Py_XSETREF(negators_set, n);
    Py_INCREF(v);
    Py_XSETREF(valence_tokens, v);
    Py_RETURN_NONE;
}

/* a + sep + b, sep one character. */
static PyObject *
join3(PyObject *a, Py_UCS4 sep, PyObject *b)
{
    Py_ssize_t la = PyUnicode_GET_LENGTH(a), lb = PyUnicode_GET_LENGTH(b);
    Py_UCS4 ma = PyUnicode_MAX_CHAR_VALUE(a), mb = PyUnicode_MAX_CHAR_VALUE(b);
    Py_UCS4 m = ma > mb ? ma : mb;
    if (sep > m)
        m = sep;
    PyObject *out = PyUnicode_New(la + 1 + lb, m);
    if (out == NULL)
        return NULL;
    if (PyUnicode_CopyCharacters(out, 0, a, 0, la) < 0 ||
        PyUnicode_WriteChar(out, la, sep) < 0 ||
        PyUnicode_CopyCharacters(out, la + 1, b, 0, lb) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* Append a new reference to list (stealing it); -1 on error. */
static int
append_steal(PyObject *list, PyObject *item)
{
    if (item == NULL)
        return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

static int
contains(PyObject *set, PyObject *key)
{
    return PySet_Contains(set, key);
}

static int
is_alpha(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (n == 0)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i)))
            return 0;
    }
    return 1;
}

typedef struct {
    double d[8];
} Dense;

static int
add_valence(double val, Dense *dense, PyObject *other)
{
    /* Python's round(): half to even, as nearbyint in the default rounding mode; the same
     * errors as `_VALENCE_TOKENS[round(val) + 4]`. */
    if (isnan(val)) {
        PyErr_SetString(PyExc_ValueError, "cannot convert float NaN to integer");
        return -1;
    }
    if (isinf(val)) {
        PyErr_SetString(PyExc_OverflowError, "cannot convert float infinity to integer");
        return -1;
    }
    double rounded = nearbyint(val) + 4;
    if (rounded < 0)
        rounded += 9; /* as Python's negative index */
    if (rounded < 0 || rounded > 8) {
        PyErr_SetString(PyExc_IndexError, "tuple index out of range");
        return -1;
    }
    long step = (long)rounded;
    if (PyList_Append(other, PyTuple_GET_ITEM(valence_tokens, step)) < 0)
        return -1;
    if (val > 0) {
        dense->d[0] += val;
        dense->d[2] += 1.0;
    }
    else {
        dense->d[1] -= val;
        dense->d[3] += 1.0;
    }
    if (val > dense->d[4])
        dense->d[4] = val;
    if (val < dense->d[5])
        dense->d[5] = val;
    dense->d[6] = val;
    return 0;
}

static PyObject *
analyze_tokens(PyObject *self, PyObject *args)
{
    PyObject *toks, *lexicon, *dense_list, *spelled;
    if (!PyArg_ParseTuple(args, "O!OO!O!", &PyList_Type, &toks, &lexicon, &PyList_Type,
                          &dense_list, &PyList_Type, &spelled))
        return NULL;
    if (quiet_set == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.setup was not called");
        return NULL;
    }
    if (PyList_GET_SIZE(dense_list) != 8) {
        PyErr_SetString(PyExc_ValueError, "dense must hold 8 numbers");
        return NULL;
    }
    /* The Python code skips lookups when the lexicon is empty (falsy). */
    int use_lex;
    if (PyDict_CheckExact(lexicon))
        use_lex = PyDict_GET_SIZE(lexicon) > 0;
    else {
        PyErr_SetString(PyExc_TypeError, "lexicon must be a dict");
        return NULL;
    }
    Dense dense;
    for (int i = 0; i < 8; i++) {
        PyObject *x = PyList_GET_ITEM(dense_list, i);
        if (!PyFloat_CheckExact(x)) {
            PyErr_SetString(PyExc_TypeError, "dense must hold floats");
            return NULL;
        }
        dense.d[i] = PyFloat_AS_DOUBLE(x);
    }
    /* Exact str tokens only: their hashing and comparing in the set and dict lookups below
     * run no Python code, so nothing can change `toks` or `lexicon` during the loops. */
    Py_ssize_t n = PyList_GET_SIZE(toks);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(toks, i))) {
            PyErr_SetString(PyExc_TypeError, "tokens must be str");
            return NULL;
        }
    }
    PyObject *readable = PyList_New(0), *other = PyList_New(0);
    if (readable == NULL || other == NULL)
        goto fail;
    int negated = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(toks, i);
        int r = contains(clause_end_set, tok);
        if (r < 0)
            goto fail;
        if (r) {
            negated = 0;
            if (PyUnicode_Compare(tok, str_bang) == 0)
                dense.d[7] += 1.0;
            int shown = contains(shown_marks_set, tok);
            if (shown < 0 || PyList_Append(shown ? readable : other, tok) < 0)
                goto fail;
            continue;
        }
        int q = contains(quiet_set, tok);
        if (q < 0)
            goto fail;
        /* The token's valence, read before anything else can run (a float: the
         * Featurizer stores them so; any other value type is refused). */
        int has_val = 0;
        double v = 0.0;
        if (use_lex) {
            PyObject *val_obj = PyDict_GetItemWithError(lexicon, tok); /* borrowed */
            if (val_obj == NULL && PyErr_Occurred())
                goto fail;
            if (val_obj != NULL && val_obj != Py_None) {
                if (!PyFloat_CheckExact(val_obj)) {
                    PyErr_SetString(PyExc_TypeError, "lexicon values must be floats");
                    goto fail;
                }
                v = PyFloat_AS_DOUBLE(val_obj);
                has_val = 1;
            }
        }
        if (negated) {
            if (append_steal(q ? other : readable, PyUnicode_Concat(str_not, tok)) < 0)
                goto fail;
            if (has_val && add_valence(-0.75 * v, &dense, other) < 0)
                goto fail;
        }
        else {
            if (PyList_Append(q ? other : readable, tok) < 0)
                goto fail;
            int neg = contains(negators_set, tok);
            if (neg < 0)
                goto fail;
            negated = neg;
            if (has_val && add_valence(v, &dense, other) < 0)
                goto fail;
        }
        Py_ssize_t size = PyUnicode_GET_LENGTH(tok);
        if (size > 6 && PyUnicode_READ_CHAR(tok, 0) != '#') {
            PyObject *head = PyUnicode_Substring(tok, 0, 6);
            if (head == NULL)
                goto fail;
            PyObject *stem = PyUnicode_Concat(str_stem, head);
            Py_DECREF(head);
            if (append_steal(other, stem) < 0)
                goto fail;
        }
        if (size >= 4 && is_alpha(tok)) {
            if (PyList_Append(spelled, tok) < 0)
                goto fail;
        }
    }
    PyObject *prev = str_start;
    int prev_quiet = contains(quiet_set, str_start);
    if (prev_quiet < 0)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyList_GET_ITEM(toks, i);
        int q = contains(quiet_set, tok);
        if (q < 0)
            goto fail;
        if (append_steal(prev_quiet || q ? other : readable, join3(prev, ' ', tok)) < 0)
            goto fail;
        prev = tok;
        prev_quiet = q;
    }
    if (append_steal(other, join3(prev, ' ', str_end)) < 0)
        goto fail;
    for (int i = 0; i < 8; i++) {
        PyObject *f = PyFloat_FromDouble(dense.d[i]);
        if (f == NULL || PyList_SetItem(dense_list, i, f) < 0)
            goto fail;
    }
    return Py_BuildValue("(NN)", readable, other);
fail:
    Py_XDECREF(readable);
    Py_XDECREF(other);
    return NULL;
}

/* --- language identification: the longest model feature ending at each byte ------------ */

#define MAX_ORDER 6
static const uint64_t HASH_MULT = 0x9E3779B97F4A7C15ULL;

/* The row of the longest feature ending at byte i of b (-1: none). */
static inline int64_t
longest_at(uint64_t window, Py_ssize_t n_tables, const int *orders, const int *bits,
           const Py_buffer *keys, const Py_buffer *ids)
{
    for (Py_ssize_t t = 0; t < n_tables; t++) {
        int64_t key = (int64_t)(window & ((1ULL << (8 * orders[t])) - 1));
        const int64_t *k = (const int64_t *)keys[t].buf;
        uint64_t mask = ((uint64_t)1 << bits[t]) - 1;
        uint64_t slot = ((uint64_t)key * HASH_MULT) >> (64 - bits[t]);
        int64_t stored;
        /* Linear probing ends at an empty slot; at most every slot once (a full table). */
        for (uint64_t probes = 0; probes <= mask && (stored = k[slot]) != -1; probes++) {
            if (stored == key)
                return ((const int32_t *)ids[t].buf)[slot];
            slot = (slot + 1) & mask;
        }
    }
    return -1;
}

/* numpy's pairwise sum of float32 (numpy/_core/src/umath/loops_utils.h.src), which
 * np.add.reduceat runs along axis 0: n values ``stride`` floats apart. */
static float
pairwise_sum(const float *a, Py_ssize_t n, Py_ssize_t stride)
{
    if (n < 8) {
        float res = -0.0f; /* as numpy: a sum of -0.0 stays -0.0 */
        for (Py_ssize_t i = 0; i < n; i++)
            res += a[i * stride];
        return res;
    }
    if (n <= 128) {
        float r[8];
        Py_ssize_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j * stride];
        for (i = 8; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; j++)
                r[j] += a[(i + j) * stride];
        }
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i * stride];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2, stride) + pairwise_sum(a + n2 * stride, n - n2, stride);
}

static int
compare_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static PyObject *
language_scores(PyObject *self, PyObject *args)
{
    /* language_scores(buf, tables, ptc, log1p_table, n_languages, scores, found)
     * buf: the batch's texts, each followed by a 0 byte. For text d, found[d] (int64) gets
     * the number of bytes where a feature ends, and scores[d] (float32, n_languages) the sum
     * over its distinct features f of ptc[f] * log1p_table[count of f], in increasing f: what
     * identify's numpy code computes (np.unique, then np.add.reduceat). */
    Py_buffer buf = {0}, ptc = {0}, log1p_table = {0}, scores = {0}, found = {0};
    PyObject *tables;
    int n_lang;
    if (!PyArg_ParseTuple(args, "y*O!y*y*iw*w*", &buf, &PyTuple_Type, &tables, &ptc,
                          &log1p_table, &n_lang, &scores, &found))
        return NULL;
    Py_buffer keys[MAX_ORDER] = {{0}}, ids[MAX_ORDER] = {{0}};
    int orders[MAX_ORDER], bits[MAX_ORDER];
    Py_ssize_t n_tables = PyTuple_GET_SIZE(tables), got = 0;
    PyObject *result = NULL;
    int32_t *feats = NULL;
    float *weighted = NULL;
    const unsigned char *b = (const unsigned char *)buf.buf;
    Py_ssize_t n = buf.len, n_docs = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        n_docs += b[i] == 0;
    if (n_tables > MAX_ORDER) {
        PyErr_SetString(PyExc_ValueError, "too many feature tables");
        goto done;
    }
    if (n_lang < 1 || ptc.len % ((Py_ssize_t)n_lang * 4) != 0 ||
        scores.len != n_docs * n_lang * 4 || found.len != n_docs * 8 ||
        (n > 0 && b[n - 1] != 0)) {
        PyErr_SetString(PyExc_ValueError, "language_scores: mismatched buffers");
        goto done;
    }
    Py_ssize_t n_feat = ptc.len / ((Py_ssize_t)n_lang * 4);
    const float *weights = (const float *)log1p_table.buf;
    for (; got < n_tables; got++) {
        /* (order, keys: int64 buffer, ids: int32 buffer, bits) */
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(tables, got), "iy*y*i", &orders[got], &keys[got],
                              &ids[got], &bits[got]))
            goto done;
        int bad = orders[got] < 1 || orders[got] > MAX_ORDER || bits[got] < 1 || bits[got] > 28;
        Py_ssize_t slots = bad ? 0 : (Py_ssize_t)1 << bits[got];
        bad = bad || keys[got].len != slots * 8 || ids[got].len != slots * 4;
        if (!bad) {
            const int32_t *row = (const int32_t *)ids[got].buf;
            for (Py_ssize_t j = 0; j < slots && !bad; j++)
                bad = row[j] < 0 || row[j] >= n_feat;
        }
        if (bad) {
            got++;
            PyErr_SetString(PyExc_ValueError, "malformed feature table");
            goto done;
        }
    }
    /* The longest text, in bytes: no text has more distinct features than bytes. */
    Py_ssize_t longest = 1, run = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        run++;
        if (b[i] == 0) {
            if (run > longest)
                longest = run;
            run = 0;
        }
    }
    /* weights[c] = log1p(c) as float32 (numpy's), for every count a text can reach. */
    if (log1p_table.len < (longest + 1) * (Py_ssize_t)sizeof(float)) {
        PyErr_SetString(PyExc_ValueError, "language_scores: log1p table too short");
        goto done;
    }
    feats = PyMem_Malloc((size_t)longest * sizeof(int32_t));
    weighted = PyMem_Malloc((size_t)longest * (size_t)n_lang * sizeof(float));
    if (feats == NULL || weighted == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    {
        const float *p = (const float *)ptc.buf;
        float *out = (float *)scores.buf;
        int64_t *nfound = (int64_t *)found.buf;
        Py_BEGIN_ALLOW_THREADS
        memset(out, 0, (size_t)scores.len);
        uint64_t window = 0; /* the last bytes, big-endian, 0 before the start */
        Py_ssize_t doc = 0, m = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            window = (window << 8) | b[i];
            int64_t f = longest_at(window, n_tables, orders, bits, keys, ids);
            if (f >= 0)
                feats[m++] = (int32_t)f;
            if (b[i] != 0)
                continue;
            /* End of a text: its distinct features in increasing order, with counts. */
            nfound[doc] = m;
            qsort(feats, (size_t)m, sizeof(int32_t), compare_int32);
            /* Weighted rows of the distinct features (numpy's `weighted`), then per language
             * the first row plus the pairwise sum of the others (np.add.reduceat). */
            Py_ssize_t u = 0;
            for (Py_ssize_t a = 0; a < m; u++) {
                Py_ssize_t z = a + 1;
                while (z < m && feats[z] == feats[a])
                    z++;
                float w = weights[z - a];
                const float *r = p + (Py_ssize_t)feats[a] * n_lang;
                float *row = weighted + u * n_lang;
                for (int l = 0; l < n_lang; l++)
                    row[l] = r[l] * w;
                a = z;
            }
            float *acc = out + doc * n_lang;
            if (u == 1)
                memcpy(acc, weighted, (size_t)n_lang * sizeof(float));
            else if (u > 1) {
                for (int l = 0; l < n_lang; l++)
                    acc[l] = weighted[l] + pairwise_sum(weighted + n_lang + l, u - 1, n_lang);
            }
            doc++;
            m = 0;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(feats);
    PyMem_Free(weighted);
    for (Py_ssize_t t = 0; t < got; t++) {
        PyBuffer_Release(&keys[t]);
        PyBuffer_Release(&ids[t]);
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&ptc);
    PyBuffer_Release(&log1p_table);
    PyBuffer_Release(&scores);
    PyBuffer_Release(&found);
    return result;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(quiet, clause_end, shown_marks, negators, valence_tokens): the featurizer's "
     "constants."},
    {"analyze_tokens", analyze_tokens, METH_VARARGS,
     "analyze_tokens(toks, lexicon, dense, spelled) -> (readable, other)"},
    {"language_scores", language_scores, METH_VARARGS,
     "language_scores(buf, tables, ptc, log1p_table, n_languages, scores, found): naive "
     "Bayes sums of "
     "the longest features ending at each byte, per 0-terminated text"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Compiled featurizer loops (optional).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    str_bang = PyUnicode_InternFromString("!");
    str_start = PyUnicode_InternFromString("<s>");
    str_end = PyUnicode_InternFromString("</s>");
    str_not = PyUnicode_FromString("\xc2\xac");
    str_stem = PyUnicode_InternFromString("~");
    if (!str_bang || !str_start || !str_end || !str_not || !str_stem)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    /* Raised with every change of what a function takes or gives: the Python side ignores a
     * module built from another version of this file (an editable install not rebuilt). */
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", 2) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* import_keras.c — Keras HDF5 weights (legacy `save_weights` / keras.applications layout) into a
 * sialoscan graph.
 *
 * The file layout read here is the one of e.g. resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5:
 *
 *   /                         attr layer_names: string array, every layer of the model, in order
 *   /<layer>                  group, attr weight_names: string array ("conv1_conv/kernel:0", ...),
 *                             empty for layers without weights
 *   /<layer>/<weight_name>    float dataset (HDF5 makes the inner "conv1_conv/" a nested group)
 *
 * A whole-model file (model.save(... .h5)) keeps the same tree under /model_weights; that is
 * accepted too. The graph is built by sialo_arch_build(arch, size, size, "none", 0) (the backbone
 * with Keras' layer names) and every tensor "<layer>/<w>" is filled from the dataset of that layer
 * whose weight name ends in "/<w>:<n>" (for a depthwise kernel also "depthwise_kernel", whose Keras
 * shape [KH,KW,C,1] holds the same bytes as our [KH,KW,1,C]).
 *
 * Everything is checked before it is used: missing layers or weights, extra weights, rank, every
 * dimension against the architecture, element class (float only), string sizes and counts,
 * non-finite values. HDF5's own error printing is switched off while we run, and its innermost
 * message is appended to ours when one of its calls fails.
 *
 * Built with -DSIALO_NO_HDF5 (the release CLI, `make dist`: no libhdf5 at run time), the entry
 * point only says so.
 */
#include "engine/graph.h"
#include "import/importers.h"
#include "sialoscan.h"

#ifdef SIALO_NO_HDF5
#include "base/base.h"

sialo_graph *sialo_import_keras_h5(const char *path, const char *arch, int input_size) {
    return sialo_fail_null("this build of sialoscan has no Keras import (it is built without HDF5); convert the .h5 "
                           "file with a build from source (make native) and use the .sialo file it writes");
}
#else
#include <hdf5.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KH5_MAX_LAYERS 100000
#define KH5_MAX_STR 4096
#define KH5_MAX_ATTR_BYTES (64u << 20)

/* ------------------------------------------------------------------ HDF5 error text */
static herr_t walk_first(unsigned n, const H5E_error2_t *e, void *client) {
    char *buf = client;
    if (n == 0 && e && e->desc && e->desc[0]) snprintf(buf, 200, "%s", e->desc);
    return 0;
}

/* innermost message of HDF5's current error stack ("" if none): walking upward starts at the
 * most specific entry (n == 0) */
static const char *h5_reason(void) {
    static _Thread_local char buf[200];
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, buf);
    if (!buf[0]) snprintf(buf, sizeof buf, "no detail from HDF5");
    return buf;
}

/* ------------------------------------------------------------------ string list attributes */
typedef struct {
    int n;
    char **s;
} strlist;

static void strlist_free(strlist *l) {
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    l->n = 0;
    l->s = NULL;
}

/* copy up to `max` bytes, stopping at a NUL, dropping trailing NULs / spaces */
static char *dup_bounded(const char *src, size_t max) {
    size_t n = 0;
    while (n < max && src[n]) n++;
    while (n > 0 && src[n - 1] == ' ') n--;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, src, n);
    d[n] = 0;
    return d;
}

/* Read attribute `attr` of `obj` as a list of strings. An attribute with no elements (Keras writes
 * an empty float64 array for layers without weights) is an empty list. `what` names the object for
 * messages. Returns 0 or -1 (reason set). */
static int read_strlist_attr(hid_t obj, const char *attr, const char *what, strlist *out) {
    hid_t a = -1, space = -1, ftype = -1, mtype = -1;
    char *buf = NULL;
    int rc = -1;
    out->n = 0;
    out->s = NULL;

    htri_t ex = H5Aexists(obj, attr);
    if (ex <= 0) return sialo_fail("%s has no '%s' attribute (not a Keras weights file?)", what, attr);
    if ((a = H5Aopen(obj, attr, H5P_DEFAULT)) < 0) {
        sialo_fail("cannot open attribute '%s' of %s: %s", attr, what, h5_reason());
        goto done;
    }
    if ((space = H5Aget_space(a)) < 0 || (ftype = H5Aget_type(a)) < 0) {
        sialo_fail("cannot read attribute '%s' of %s: %s", attr, what, h5_reason());
        goto done;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    hssize_t np = sc == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(space);
    if (np < 0) { sialo_fail("attribute '%s' of %s has an unreadable shape", attr, what); goto done; }
    if (np == 0) { rc = 0; goto done; }
    if (np > KH5_MAX_LAYERS) { sialo_fail("attribute '%s' of %s has %lld entries (limit %d)", attr, what, (long long)np, KH5_MAX_LAYERS); goto done; }
    if (H5Tget_class(ftype) != H5T_STRING) {
        sialo_fail("attribute '%s' of %s is not a list of strings", attr, what);
        goto done;
    }
    out->s = sialo_xcalloc((size_t)np, sizeof *out->s);
    if (!out->s) goto done;
    htri_t var = H5Tis_variable_str(ftype);
    if (var < 0) { sialo_fail("attribute '%s' of %s: unreadable string type", attr, what); goto done; }
    if (var) {
        mtype = H5Tcopy(H5T_C_S1);
        if (mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 || H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0) { sialo_fail("HDF5: %s", h5_reason()); goto done; }
        char **vs = sialo_xcalloc((size_t)np, sizeof *vs);
        if (!vs) goto done;
        if (H5Aread(a, mtype, vs) < 0) {
            free(vs);
            sialo_fail("cannot read attribute '%s' of %s: %s", attr, what, h5_reason());
            goto done;
        }
        int oom = 0;
        for (hssize_t i = 0; i < np; i++) {
            if (!oom) {
                out->s[i] = dup_bounded(vs[i] ? vs[i] : "", KH5_MAX_STR);
                if (!out->s[i]) oom = 1; else out->n = (int)i + 1;
            }
        }
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mtype, space, H5P_DEFAULT, vs);
#else
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, vs);
#endif
        free(vs);
        if (oom) { sialo_fail("out of memory"); goto done; }
    } else {
        size_t sz = H5Tget_size(ftype);
        if (sz == 0 || sz > KH5_MAX_STR) { sialo_fail("attribute '%s' of %s has strings of %zu bytes", attr, what, sz); goto done; }
        if ((size_t)np * sz > KH5_MAX_ATTR_BYTES) { sialo_fail("attribute '%s' of %s is too large", attr, what); goto done; }
        if ((mtype = H5Tcopy(ftype)) < 0) { sialo_fail("HDF5: %s", h5_reason()); goto done; }
        buf = malloc((size_t)np * sz);
        if (!buf) { sialo_fail("out of memory"); goto done; }
        if (H5Aread(a, mtype, buf) < 0) {
            sialo_fail("cannot read attribute '%s' of %s: %s", attr, what, h5_reason());
            goto done;
        }
        for (hssize_t i = 0; i < np; i++) {
            out->s[i] = dup_bounded(buf + (size_t)i * sz, sz);
            if (!out->s[i]) { sialo_fail("out of memory"); goto done; }
            out->n = (int)i + 1;
        }
    }
    rc = 0;
done:
    free(buf);
    if (mtype >= 0) H5Tclose(mtype);
    if (ftype >= 0) H5Tclose(ftype);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    if (rc < 0) strlist_free(out);
    return rc;
}

static int strlist_find(const strlist *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->s[i], s)) return i;
    return -1;
}

/* "conv1_conv/kernel:0" -> "kernel" (written into out) */
static void weight_basename(const char *wn, char *out, size_t n) {
    const char *b = strrchr(wn, '/');
    b = b ? b + 1 : wn;
    size_t len = strcspn(b, ":");
    if (len >= n) len = n - 1;
    memcpy(out, b, len);
    out[len] = 0;
}

static void dims_text(char *buf, size_t n, int nd, const hsize_t *d) {
    size_t k = 0;
    buf[0] = 0;
    k += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < nd && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%llu", i ? "," : "", (unsigned long long)d[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* ------------------------------------------------------------------ one dataset into a tensor */
static int read_weight(hid_t grp, const char *layer, const char *wname, const char *kind, sialo_tensor *t) {
    hid_t ds = -1, space = -1, ftype = -1;
    int rc = -1;
    char want[96], have[96];
    hsize_t td[SIALO_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) td[i] = (hsize_t)t->dims[i];
    dims_text(want, sizeof want, t->ndim, td);

    /* H5Dopen2 on a path whose intermediate group is missing just fails (errors are silenced) */
    if ((ds = H5Dopen2(grp, wname, H5P_DEFAULT)) < 0) {
        sialo_fail("Keras file: layer '%s' lists weight '%s' but the dataset '%s/%s' is missing or not a dataset",
                   layer, wname, layer, wname);
        goto done;
    }
    if ((ftype = H5Dget_type(ds)) < 0 || (space = H5Dget_space(ds)) < 0) {
        sialo_fail("Keras file: cannot read the type / shape of '%s/%s': %s", layer, wname, h5_reason());
        goto done;
    }
    H5T_class_t cls = H5Tget_class(ftype);
    size_t esz = H5Tget_size(ftype);
    if (cls != H5T_FLOAT || (esz != 2 && esz != 4 && esz != 8)) {
        const char *cn = cls == H5T_INTEGER ? "integer" : cls == H5T_STRING ? "string" : cls == H5T_COMPOUND ? "compound"
                       : cls == H5T_FLOAT ? "float of unusual size" : "non-numeric";
        sialo_fail("Keras file: weight '%s/%s' has element type %s (%zu bytes); expected float32", layer, wname, cn, esz);
        goto done;
    }
    if (H5Sget_simple_extent_type(space) != H5S_SIMPLE) {
        sialo_fail("Keras file: weight '%s/%s' is a scalar or empty; expected shape %s", layer, wname, want);
        goto done;
    }
    int nd = H5Sget_simple_extent_ndims(space);
    if (nd < 1 || nd > 32) { sialo_fail("Keras file: weight '%s/%s' has %d dimensions; expected shape %s", layer, wname, nd, want); goto done; }
    hsize_t fd[32];
    if (H5Sget_simple_extent_dims(space, fd, NULL) < 0) { sialo_fail("Keras file: unreadable shape of '%s/%s'", layer, wname); goto done; }
    dims_text(have, sizeof have, nd, fd);
    int same = nd == t->ndim;
    for (int i = 0; same && i < nd; i++) same = fd[i] == td[i];
    /* depthwise: Keras [KH,KW,C,1] == ours [KH,KW,1,C] byte for byte */
    int dw = !same && !strcmp(kind, "depthwise_kernel") && nd == 4 && t->ndim == 4 && fd[0] == td[0] &&
             fd[1] == td[1] && fd[2] == td[3] && fd[3] == td[2];
    if (!same && !dw) {
        sialo_fail("Keras file: weight '%s/%s' has shape %s; the architecture needs %s", layer, wname, have, want);
        goto done;
    }
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0) {
        sialo_fail("Keras file: cannot read the data of '%s/%s' (truncated or corrupt file?): %s", layer, wname, h5_reason());
        goto done;
    }
    for (size_t k = 0; k < t->count; k++)
        if (!isfinite(t->data[k])) {
            sialo_fail("Keras file: weight '%s/%s' holds NaN or infinity (element %zu)", layer, wname, k);
            goto done;
        }
    rc = 0;
done:
    if (ftype >= 0) H5Tclose(ftype);
    if (space >= 0) H5Sclose(space);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* ------------------------------------------------------------------ fill one layer */
static int fill_layer(hid_t root, sialo_graph *g, const sialo_node *nd) {
    hid_t grp = -1;
    strlist wn = {0};
    int rc = -1;
    char what[300];
    unsigned char used[SIALO_MAX_NODE_TENSORS * 4] = {0};

    if (H5Lexists(root, nd->name, H5P_DEFAULT) <= 0 || (grp = H5Gopen2(root, nd->name, H5P_DEFAULT)) < 0) {
        sialo_fail("Keras file: layer '%s' is in layer_names but its group is missing", nd->name);
        goto done;
    }
    snprintf(what, sizeof what, "layer '%s'", nd->name);
    if (read_strlist_attr(grp, "weight_names", what, &wn) < 0) goto done;
    if (wn.n > (int)sizeof used) { sialo_fail("Keras file: layer '%s' lists %d weights", nd->name, wn.n); goto done; }
    size_t plen = strlen(nd->name);
    for (int k = 0; k < nd->n_t; k++) {
        sialo_tensor *t = &g->tensors[nd->t[k]];
        const char *kind = t->name;
        if (!strncmp(t->name, nd->name, plen) && t->name[plen] == '/') kind = t->name + plen + 1;
        int found = -1;
        const char *fkind = kind;
        for (int i = 0; i < wn.n && found < 0; i++) {
            char b[128];
            weight_basename(wn.s[i], b, sizeof b);
            if (!strcmp(b, kind)) found = i;
            else if (!strcmp(kind, "kernel") && !strcmp(b, "depthwise_kernel")) { found = i; fkind = "depthwise_kernel"; }
        }
        if (found < 0) {
            sialo_fail("Keras file: layer '%s' has no '%s' weight (weight_names lists %d)", nd->name, kind, wn.n);
            goto done;
        }
        if (used[found]) { sialo_fail("Keras file: layer '%s' weight '%s' matched twice", nd->name, wn.s[found]); goto done; }
        used[found] = 1;
        if (read_weight(grp, nd->name, wn.s[found], fkind, t) < 0) goto done;
    }
    for (int i = 0; i < wn.n; i++)
        if (!used[i]) {
            sialo_fail("Keras file: layer '%s' has weight '%s', which the architecture does not use", nd->name, wn.s[i]);
            goto done;
        }
    rc = 0;
done:
    strlist_free(&wn);
    if (grp >= 0) H5Gclose(grp);
    return rc;
}

/* ------------------------------------------------------------------ entry point */
sialo_graph *sialo_import_keras_h5(const char *path, const char *arch, int input_size) {
    if (!path || !*path) return sialo_fail_null("no Keras HDF5 file given");
    if (!arch || !*arch) return sialo_fail_null("no architecture given for the Keras weights (e.g. resnet50v2)");

    FILE *f = fopen(path, "rb");
    if (!f) return sialo_fail_null("cannot open '%s'", path);
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, 8, f);
    fseek(f, 0, SEEK_END);
    long fsize = ftell(f);
    fclose(f);
    if (fsize == 0) return sialo_fail_null("'%s' is empty (0 bytes)", path);

    /* silence HDF5's automatic error printing for the duration of the call */
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    sialo_graph *g = NULL;
    hid_t file = -1, root = -1;
    strlist layers = {0};
    static const unsigned char h5sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        if (got == 8 && !memcmp(sig, h5sig, 8))
            sialo_fail("'%s' starts like an HDF5 file but is truncated or corrupt: %s", path, h5_reason());
        else
            sialo_fail("'%s' is not an HDF5 file (no HDF5 signature)", path);
        goto fail;
    }
    if ((file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        sialo_fail("cannot open HDF5 file '%s' (truncated or corrupt?): %s", path, h5_reason());
        goto fail;
    }
    /* weights-only files keep layer_names at the root; whole-model files under /model_weights */
    if (H5Aexists(file, "layer_names") > 0) {
        root = H5Gopen2(file, "/", H5P_DEFAULT);
    } else if (H5Lexists(file, "model_weights", H5P_DEFAULT) > 0) {
        root = H5Gopen2(file, "model_weights", H5P_DEFAULT);
    } else {
        sialo_fail("'%s' is an HDF5 file but not a Keras weights file (no 'layer_names' attribute at the root or in /model_weights)", path);
        goto fail;
    }
    if (root < 0) { sialo_fail("cannot open the weights group of '%s': %s", path, h5_reason()); goto fail; }
    if (read_strlist_attr(root, "layer_names", "the Keras weights group", &layers) < 0) goto fail;
    if (layers.n == 0) { sialo_fail("Keras file '%s' lists no layers", path); goto fail; }

    g = sialo_arch_build(arch, input_size, input_size, "none", 0);
    if (!g) {
        char why[300];
        snprintf(why, sizeof why, "%s", sialo_error());
        sialo_fail("cannot build architecture '%s' at %dx%d: %s", arch, input_size, input_size, why);
        goto fail;
    }

    /* every layer of ours with weights must be in the file */
    int n_filled = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const sialo_node *nd = &g->nodes[i];
        if (nd->n_t == 0) continue;
        if (strlist_find(&layers, nd->name) < 0) {
            sialo_fail("Keras file: layer '%s' of %s is missing (not in layer_names)", nd->name, arch);
            goto fail;
        }
        if (fill_layer(root, g, nd) < 0) goto fail;
        n_filled++;
    }
    /* and every layer of the file with weights must be ours */
    for (int i = 0; i < layers.n; i++) {
        int k = sialo_graph_find_node(g, layers.s[i]);
        if (k >= 0 && g->nodes[k].n_t > 0) continue;
        if (H5Lexists(root, layers.s[i], H5P_DEFAULT) <= 0) continue; /* no group: no weights */
        hid_t grp = H5Gopen2(root, layers.s[i], H5P_DEFAULT);
        if (grp < 0) continue;
        strlist wn = {0};
        char what[300];
        snprintf(what, sizeof what, "layer '%s'", layers.s[i]);
        int r = H5Aexists(grp, "weight_names") > 0 ? read_strlist_attr(grp, "weight_names", what, &wn) : 0;
        int nw = wn.n;
        strlist_free(&wn);
        H5Gclose(grp);
        if (r < 0) goto fail;
        if (nw > 0) {
            sialo_fail("Keras file: layer '%s' has %d weights but %s (without top) has no such layer%s",
                       layers.s[i], nw, arch, !strcmp(layers.s[i], "predictions") ? " (a file with the classifier top? use the _notop weights)" : "");
            goto fail;
        }
    }
    {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char prov[600];
        snprintf(prov, sizeof prov, "Keras HDF5 weights imported from %s (%d layers with weights)", base, n_filled);
        if (sialo_graph_set_text(&g->provenance, prov) < 0) goto fail;
    }
    strlist_free(&layers);
    H5Gclose(root);
    H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return g;

fail:
    strlist_free(&layers);
    if (root >= 0) H5Gclose(root);
    if (file >= 0) H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    sialo_graph_free(g);
    return NULL;
}

#endif /* SIALO_NO_HDF5 */

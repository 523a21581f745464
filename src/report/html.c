/* report.html: one self-contained page. Every picture is a PNG data URI; the numbers come
 * from report.json's object (so the page and the JSON cannot disagree); the hover needs
 * the label maps (base64 int32, little endian) and one grey PNG sprite sheet of pattern
 * thumbnails (log scale), coloured with viridis in a canvas by a small inline script. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* ---- a growing string ------------------------------------------------------------- */
typedef struct {
    char *s;
    size_t n, cap;
    int nomem;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->nomem = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Text for HTML content and attributes. */
static void sb_esc(sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': sb_str(b, "&lt;"); break;
        case '>': sb_str(b, "&gt;"); break;
        case '&': sb_str(b, "&amp;"); break;
        case '"': sb_str(b, "&quot;"); break;
        default: sb_put(b, s, 1);
        }
    }
}

char *report_base64(const uint8_t *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = lcae_malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = 0;
    return out;
}

static void sb_png(sbuf *b, const uint8_t *png, size_t bytes)
{
    char *s = report_base64(png, bytes);
    if (!s) {
        b->nomem = 1;
        return;
    }
    sb_str(b, "data:image/png;base64,");
    sb_str(b, s);
    free(s);
}

/* A number as the page shows it: integers whole, others to 6 significant digits. */
static void sb_num(sbuf *b, double v)
{
    if (isnan(v))
        sb_str(b, "n/a");
    else if (v == floor(v) && fabs(v) < 1e15)
        sb_printf(b, "%.0f", v);
    else
        sb_printf(b, "%.6g", v);
}

/* A JSON number to `digits` significant digits, anything else "n/a". */
static void sb_json_g(sbuf *b, const cJSON *v, int digits)
{
    if (cJSON_IsNumber(v))
        sb_printf(b, "%.*g", digits, v->valuedouble);
    else
        sb_str(b, "n/a");
}

static void sb_json_value(sbuf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        sb_num(b, v->valuedouble);
    else if (cJSON_IsNull(v))
        sb_str(b, "n/a");
    else if (cJSON_IsString(v))
        sb_esc(b, v->valuestring);
    else if (cJSON_IsBool(v))
        sb_str(b, cJSON_IsTrue(v) ? "yes" : "no");
    else if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v), i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            if (i == 32) {
                sb_printf(b, ", ... (%d values)", n);
                break;
            }
            if (i++)
                sb_str(b, ", ");
            sb_json_value(b, e);
        }
    }
}

/* Rows "key | value" of an object, nested objects flattened as a.b. */
static void sb_rows(sbuf *b, const cJSON *o, const char *prefix)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, o) {
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", e->string ? e->string : "");
        if (cJSON_IsObject(e)) {
            sb_rows(b, e, key);
            continue;
        }
        sb_str(b, "<tr><th>");
        sb_esc(b, key);
        sb_str(b, "</th><td>");
        sb_json_value(b, e);
        sb_str(b, "</td></tr>\n");
    }
}

static void sb_table(sbuf *b, const cJSON *o)
{
    sb_str(b, "<table class=\"kv\">\n");
    sb_rows(b, o, "");
    sb_str(b, "</table>\n");
}

static const char *style =
    "body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;"
    "color:#222}\n"
    "h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ccc}\n"
    ".sub{color:#555;margin-top:0}\n"
    "table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid "
    "#e4e4e4;text-align:left;vertical-align:top}td.n,th.n{text-align:right;"
    "font-variant-numeric:tabular-nums}\n"
    "table.kv th{font-weight:normal;color:#555}\n"
    "figure{margin:12px 0 24px}figure img{max-width:100%;height:auto}\n"
    "figcaption{color:#444;max-width:900px}\n"
    ".explore{display:flex;gap:24px;align-items:flex-start}\n"
    ".maps{display:flex;gap:18px;flex-wrap:wrap;flex:1 1 500px;min-width:0}"
    ".maps figure{margin:0}\n"
    "img.hover{image-rendering:pixelated;cursor:crosshair;display:block;border:1px solid #ccc}\n"
    ".probe{position:sticky;top:8px;background:#fafafa;border:1px solid #ddd;padding:10px;"
    "flex:0 0 300px}\n"
    "#pattern{image-rendering:pixelated;background:#eee;display:block}\n"
    ".sw{display:inline-block;width:12px;height:12px;border:1px solid #888;margin-right:5px;"
    "vertical-align:-1px}\n#probe-text td{white-space:nowrap}\n"
    "nav a{margin-right:14px}\n";

/* The inline script: label maps, sprite, viridis lookup come from #lcae-data. */
static const char *script =
    "\"use strict\";\n"
    "(function(){\n"
    "const R=JSON.parse(document.getElementById('lcae-data').textContent);\n"
    "function bytes(s){const t=atob(s),u=new Uint8Array(t.length);"
    "for(let i=0;i<t.length;i++)u[i]=t.charCodeAt(i);return u;}\n"
    "const maps=R.maps.map(m=>({title:m.title,prefix:m.prefix,colors:m.colors,"
    "dv:new DataView(bytes(m.labels).buffer)}));\n"
    "const cv=document.getElementById('pattern'),ctx=cv.getContext('2d');\n"
    "const small=document.createElement('canvas');small.width=R.tw;small.height=R.th;\n"
    "const sctx=small.getContext('2d',{willReadFrequently:true});\n"
    "const sprite=document.getElementById('sprite'),text=document.getElementById('probe-text');\n"
    "function esc(s){return String(s).replace(/[&<>\"]/g,c=>({'&':'&amp;','<':'&lt;',"
    "'>':'&gt;','\"':'&quot;'}[c]));}\n"
    "function draw(ty,tx){\n"
    " sctx.clearRect(0,0,R.tw,R.th);\n"
    " sctx.drawImage(sprite,tx*R.tw,ty*R.th,R.tw,R.th,0,0,R.tw,R.th);\n"
    " const im=sctx.getImageData(0,0,R.tw,R.th),d=im.data;\n"
    " for(let i=0;i<d.length;i+=4){const g=d[i];d[i]=R.viridis[3*g];d[i+1]=R.viridis[3*g+1];"
    "d[i+2]=R.viridis[3*g+2];d[i+3]=255;}\n"
    " sctx.putImageData(im,0,0);\n"
    " ctx.imageSmoothingEnabled=false;ctx.clearRect(0,0,cv.width,cv.height);\n"
    " ctx.drawImage(small,0,0,R.tw,R.th,0,0,cv.width,cv.height);\n"
    "}\n"
    "function show(y,x){\n"
    " const ty=Math.min(R.tny-1,Math.round(y/R.stride)),tx=Math.min(R.tnx-1,Math.round(x/R.stride));\n"
    " let h='<b>position</b> row '+y+', column '+x;\n"
    " if(R.stride>1)h+='<br><span class=\"sub\">pattern of the nearest sampled position (row '"
    "+ty*R.stride+', column '+tx*R.stride+'; every '+R.stride+' positions)</span>';\n"
    " h+='<table>';\n"
    " for(const m of maps){const l=m.dv.getInt32(4*(y*R.nx+x),true);\n"
    "  const c=l>=0&&l<m.colors.length?m.colors[l]:'#808080';\n"
    "  const name=l<0?'noise':m.prefix+l;\n"
    "  h+='<tr><th>'+esc(m.title)+'</th><td><span class=\"sw\" style=\"background:'+c+"
    "'\"></span>'+esc(name)+'</td></tr>';}\n"
    " h+='</table>';text.innerHTML=h;\n"
    " if(sprite.complete&&sprite.naturalWidth)draw(ty,tx);\n"
    " else sprite.addEventListener('load',()=>draw(ty,tx),{once:true});\n"
    "}\n"
    "for(const img of document.querySelectorAll('img.hover')){\n"
    " img.addEventListener('mousemove',e=>{const r=img.getBoundingClientRect();\n"
    "  const x=Math.max(0,Math.min(R.nx-1,Math.floor((e.clientX-r.left)/r.width*R.nx)));\n"
    "  const y=Math.max(0,Math.min(R.ny-1,Math.floor((e.clientY-r.top)/r.height*R.ny)));\n"
    "  show(y,x);});\n"
    "}\n"
    "})();\n";

/* A scan map as a native-size PNG (the page enlarges it without smoothing). */
static void sb_map(sbuf *b, const char *title, const uint8_t *rgb, int64_t ny, int64_t nx,
                   int scale)
{
    uint8_t *png;
    size_t bytes;
    if (lcae_png_encode(rgb, (int)ny, (int)nx, 3, &png, &bytes)) {
        b->nomem = 1;
        return;
    }
    sb_str(b, "<figure><figcaption>");
    sb_esc(b, title);
    sb_printf(b, "</figcaption><img class=\"hover\" width=\"%lld\" height=\"%lld\" alt=\"",
              (long long)(nx * scale), (long long)(ny * scale));
    sb_esc(b, title);
    sb_str(b, "\" src=\"");
    sb_png(b, png, bytes);
    sb_str(b, "\"></figure>\n");
    free(png);
}

/* One hoverable map's entry in #lcae-data. */
static cJSON *map_json(const char *title, const int32_t *labels, int64_t n, const char *prefix)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "title", title);
    uint8_t *le = lcae_malloc((size_t)n * 4);
    char *s = NULL;
    int32_t k = 0;
    if (le) {
        for (int64_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)labels[i];
            le[4 * i] = (uint8_t)v;
            le[4 * i + 1] = (uint8_t)(v >> 8);
            le[4 * i + 2] = (uint8_t)(v >> 16);
            le[4 * i + 3] = (uint8_t)(v >> 24);
            k = labels[i] + 1 > k ? labels[i] + 1 : k;
        }
        s = report_base64(le, (size_t)n * 4);
    }
    cJSON_AddStringToObject(m, "labels", s ? s : "");
    free(le);
    free(s);
    cJSON_AddStringToObject(m, "prefix", prefix);
    cJSON *cols = cJSON_AddArrayToObject(m, "colors");
    for (int32_t l = 0; l < k; l++) {
        uint8_t c[3];
        char hex[8];
        lcae_palette_label(l, c);
        snprintf(hex, sizeof hex, "#%02x%02x%02x", c[0], c[1], c[2]);
        cJSON_AddItemToArray(cols, cJSON_CreateString(hex));
    }
    return m;
}

static void sb_explore(sbuf *b, report_ctx *r, cJSON *data)
{
    const lcae_report_input *in = r->in;
    uint8_t *rgb = lcae_malloc((size_t)r->n * 3);
    if (!rgb) {
        b->nomem = 1;
        return;
    }
    cJSON *maps = cJSON_AddArrayToObject(data, "maps");
    sb_str(b, "<h2 id=\"explore\">Cluster maps: hover to see the pattern</h2>\n"
              "<p>Move the mouse over a map: the panel shows the diffraction pattern at that "
              "scan position (a thumbnail, log scale) and its cluster in every model.</p>\n"
              "<div class=\"explore\"><div class=\"maps\">\n");
    for (int c = 0; c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        const char *title = cl->in->title ? cl->in->title : cl->in->name;
        lcae_image_labels(cl->in->labels, r->n, rgb);
        sb_map(b, title, rgb, r->ny, r->nx, r->map_scale);
        cJSON_AddItemToArray(maps, map_json(title, cl->in->labels, r->n, "cluster "));
    }
    const struct {
        const int32_t *map;
        const char *title, *prefix;
    } truths[] = {{in->truth_class, "True class", "class "},
                  {in->truth_grain, "True grain", "grain "}};
    for (int t = 0; t < 2; t++) {
        if (!truths[t].map)
            continue;
        lcae_image_labels(truths[t].map, r->n, rgb);
        sb_map(b, truths[t].title, rgb, r->ny, r->nx, r->map_scale);
        cJSON_AddItemToArray(maps, map_json(truths[t].title, truths[t].map, r->n,
                                            truths[t].prefix));
    }
    free(rgb);
    int cw = 240, ch = r->th * 240 / r->tw;
    sb_printf(b, "</div><div class=\"probe\"><canvas id=\"pattern\" width=\"%d\" height=\"%d\">"
                 "</canvas><div id=\"probe-text\">Move the mouse over a map.</div></div></div>\n",
              cw, ch);
}

/* The sprite: thumbnails (tny x tnx of th x tw) as one grey PNG, log scale. */
static int sb_sprite(sbuf *b, report_ctx *r)
{
    int64_t H = (int64_t)r->tny * r->th, W = (int64_t)r->tnx * r->tw;
    uint8_t *g = lcae_malloc((size_t)(H * W));
    if (!g)
        return LCAE_ENOMEM;
    double a = log10(r->thumb_lo), span = log10(r->thumb_hi) - a;
    for (int ty = 0; ty < r->tny; ty++)
        for (int tx = 0; tx < r->tnx; tx++) {
            const float *t = r->thumbs + ((int64_t)ty * r->tnx + tx) * r->th * r->tw;
            for (int i = 0; i < r->th; i++)
                for (int j = 0; j < r->tw; j++) {
                    double v = t[i * r->tw + j];
                    double u = span > 0 ? (log10(v > r->thumb_lo ? v : r->thumb_lo) - a) / span : 0;
                    u = u < 0 ? 0 : u > 1 ? 1 : u;
                    g[((int64_t)ty * r->th + i) * W + (int64_t)tx * r->tw + j] =
                        (uint8_t)lround(255 * u);
                }
        }
    uint8_t *png;
    size_t bytes;
    int rc = lcae_png_encode(g, (int)H, (int)W, 1, &png, &bytes);
    free(g);
    if (rc)
        return rc;
    sb_str(b, "<img id=\"sprite\" hidden alt=\"\" src=\"");
    sb_png(b, png, bytes);
    sb_str(b, "\">\n");
    free(png);
    return LCAE_OK;
}

/* The "features smoothed" cell from lcae run's cluster.json: "3 x 3 (0.168)", "no
 * (0.004)" under --smooth auto, "no" when smoothing was off, "" when unknown. */
static void sb_smoothing(sbuf *b, const cJSON *cluster)
{
    const cJSON *share = cJSON_GetObjectItemCaseSensitive(cluster, "noise_share");
    const cJSON *window = cJSON_GetObjectItemCaseSensitive(cluster, "smoothed");
    int size = cJSON_IsNumber(window) ? (int)cJSON_GetNumberValue(window) : 0;
    if (cluster && size > 0)
        sb_printf(b, "%d x %d (%.3f)", size, size, cJSON_GetNumberValue(share));
    else if (cluster && cJSON_IsNumber(share))
        sb_printf(b, "no (%.3f)", cJSON_GetNumberValue(share));
    else if (cluster)
        sb_str(b, "no");
    sb_str(b, "</td><td>");
}

static void sb_clusters(sbuf *b, report_ctx *r)
{
    sb_str(b, "<h2 id=\"clusters\">Clusters</h2>\n<table><tr><th>model</th><th class=\"n\">"
              "clusters</th><th class=\"n\">noise</th><th class=\"n\">noise %</th>"
              "<th>features smoothed (noise share)</th>"
              "<th>sizes of the largest (positions)</th></tr>\n");
    for (int c = 0; c < r->ncl; c++) {
        const report_clustering *cl = &r->cl[c];
        sb_str(b, "<tr><td>");
        sb_esc(b, cl->in->title ? cl->in->title : cl->in->name);
        sb_printf(b, "</td><td class=\"n\">%d</td><td class=\"n\">%lld</td><td class=\"n\">%.2f"
                     "</td><td>", cl->nclusters, (long long)cl->noise,
                  100.0 * (double)cl->noise / (double)r->n);
        sb_smoothing(b, cl->in->cluster);
        for (int s = 0; s < cl->nshown && s < 12; s++) {
            uint8_t col[3];
            lcae_palette_label(cl->shown[s], col);
            sb_printf(b, "<span class=\"sw\" style=\"background:#%02x%02x%02x\"></span>%d: %lld ",
                      col[0], col[1], col[2], (int)cl->shown[s],
                      (long long)cl->sizes[cl->shown[s]]);
        }
        if (cl->nclusters > 12)
            sb_printf(b, "... (all %d in report.json)", cl->nclusters);
        sb_str(b, "</td></tr>\n");
    }
    sb_str(b, "</table>\n");
}

/* Scores: one row per metric, one column per clustering and truth. */
static void sb_scores(sbuf *b, const cJSON *cls)
{
    enum { KINDS = 5 };
    const char *keys[KINDS] = {"score", "score_grain", "score_filled", "score_grain_filled",
                               "score_grain_grains"};
    const char *against[KINDS] = {"classes", "grains", "classes (filled map)",
                                  "grains (filled map)", "grains (grain map)"};
    const cJSON *first = NULL, *c;
    int ncols = 0;
    cJSON_ArrayForEach(c, cls) for (int k = 0; k < KINDS; k++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, keys[k]);
        if (cJSON_IsObject(s)) {
            first = first ? first : s;
            ncols++;
        }
    }
    if (!first)
        return;
    sb_str(b, "<h2 id=\"scores\">Scores against the truth</h2>\n<table><tr><th></th>");
    cJSON_ArrayForEach(c, cls) for (int k = 0; k < KINDS; k++) {
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c, keys[k])))
            continue;
        sb_str(b, "<th class=\"n\">");
        sb_esc(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "title")));
        sb_printf(b, "<br>vs true %s</th>", against[k]);
    }
    sb_str(b, "</tr>\n");
    const cJSON *metric;
    cJSON_ArrayForEach(metric, first) {
        if (!cJSON_IsNumber(metric) && !cJSON_IsNull(metric))
            continue;
        sb_str(b, "<tr><th>");
        sb_esc(b, metric->string);
        sb_str(b, "</th>");
        cJSON_ArrayForEach(c, cls) for (int k = 0; k < KINDS; k++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, keys[k]);
            if (!cJSON_IsObject(s))
                continue;
            sb_str(b, "<td class=\"n\">");
            sb_json_value(b, cJSON_GetObjectItemCaseSensitive(s, metric->string));
            sb_str(b, "</td>");
        }
        sb_str(b, "</tr>\n");
    }
    sb_str(b, "</table>\n<p>ARI/AMI: adjusted Rand index and adjusted mutual information "
              "(noise as a label of its own; *_no_noise: noise left out); fragmentation: "
              "clusters per true class; boundary_recovery: share of true boundary positions in "
              "clusters made mostly of boundary. Filled map: the boundaries and noise given to "
              "the regions around them (labels_filled.npy); grain map: each connected piece of "
              "the filled map a grain of its own (labels_grains.npy).</p>\n");
}

/* Each model's latent features at the end of training (report.json's latent_probe, from
 * the training log): spread over the probe set and, for the invariant features, the
 * invariance error relative to it; one row each, one column per feature. */
static void sb_latent_probe(sbuf *b, const cJSON *cls)
{
    const cJSON *c;
    int any = 0;
    cJSON_ArrayForEach(c, cls) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "latent_probe");
        const cJSON *spread = cJSON_GetObjectItemCaseSensitive(p, "latent_spread");
        if (!cJSON_IsArray(spread))
            continue;
        if (!any++)
            sb_str(b, "<h2 id=\"latent\">Latent features</h2>\n<p>Per feature, after the last "
                      "epoch, over a fixed probe set of training patterns encoded in evaluation "
                      "mode: the spread (standard deviation) and, for the features trained to be "
                      "invariant, the invariance error mean |E(x) - E(Rx)| / spread, R a random "
                      "rotation about the pattern centre. Invariant and informative: a small "
                      "error with a spread that is not small next to the other features'.</p>\n");
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(p, "invariance_error");
        sb_str(b, "<h3>");
        sb_esc(b, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "title")));
        sb_str(b, "</h3>\n<table><tr><th>feature</th>");
        for (int j = 0; j < cJSON_GetArraySize(spread); j++)
            sb_printf(b, "<th class=\"n\">%d</th>", j);
        const cJSON *rows[2] = {spread, err};
        const char *names[2] = {"spread", "invariance error"};
        for (int k = 0; k < 2; k++) {
            if (!cJSON_IsArray(rows[k]))
                continue;
            sb_printf(b, "</tr>\n<tr><th>%s</th>", names[k]);
            const cJSON *v;
            cJSON_ArrayForEach(v, rows[k]) {
                sb_str(b, "<td class=\"n\">");
                sb_json_g(b, v, 3);
                sb_str(b, "</td>");
            }
        }
        sb_str(b, "</tr>\n</table>\n");
        const cJSON *restarts = cJSON_GetObjectItemCaseSensitive(p, "restarts"), *r;
        if (!cJSON_IsArray(restarts))
            continue;
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(p, "restart_choice");
        int by_agreement = cJSON_IsString(rule) && !strcmp(rule->valuestring, "agreement");
        sb_printf(b, "<p>Trained %d times from as many initializations on the same batches; "
                     "kept restart %d, %s. Final loss (mean loss of the last quarter of the "
                     "steps)%s of each restart:", cJSON_GetArraySize(restarts),
                  cJSON_GetObjectItemCaseSensitive(p, "chosen_restart")->valueint,
                  by_agreement ? "the one whose clustering agrees most with the others' "
                                 "(sum of the adjusted Rand indices of its labels with "
                                 "theirs)" : "the one of lowest final loss",
                  by_agreement ? " and agreement" : "");
        const char *sep = " ";
        cJSON_ArrayForEach(r, restarts) {
            const cJSON *loss = cJSON_GetObjectItemCaseSensitive(r, "final_loss");
            const cJSON *agreement = cJSON_GetObjectItemCaseSensitive(r, "agreement");
            const cJSON *number = cJSON_GetObjectItemCaseSensitive(r, "restart");
            if (!cJSON_IsNumber(number))
                continue;
            sb_printf(b, "%s%d: ", sep, number->valueint);
            sep = "; ";
            sb_json_g(b, loss, 4);
            if (by_agreement) {
                sb_str(b, " and ");
                sb_json_g(b, agreement, 4);
            }
        }
        sb_str(b, ".</p>\n");
    }
}

int report_html(report_ctx *r)
{
    sbuf b = {0};
    const cJSON *j = r->json;
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ds, "path"));
    sb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width\">\n"
               "<link rel=\"icon\" href=\"data:,\">\n<title>lcae report: ");
    sb_esc(&b, path);
    sb_str(&b, "</title>\n<style>\n");
    sb_str(&b, style);
    sb_str(&b, "</style></head><body>\n<h1>lcae report</h1>\n<p class=\"sub\">");
    sb_esc(&b, path);
    sb_printf(&b, ": a %lld x %lld scan of %lld x %lld patterns; lcae %s</p>\n",
              (long long)r->ny, (long long)r->nx, (long long)r->h, (long long)r->w,
              lcae_version());
    sb_str(&b, "<nav><a href=\"#explore\">maps</a><a href=\"#figures\">figures</a>"
               "<a href=\"#dataset\">dataset</a><a href=\"#clusters\">clusters</a>"
               "<a href=\"#scores\">scores</a><a href=\"#latent\">latent</a>"
               "<a href=\"#timings\">timings</a>"
               "<a href=\"#config\">configuration</a></nav>\n");

    cJSON *data = cJSON_CreateObject();
    if (!data)
        return lcae_fail(LCAE_ENOMEM, "%s: out of memory", r->dir);
    cJSON_AddNumberToObject(data, "ny", (double)r->ny);
    cJSON_AddNumberToObject(data, "nx", (double)r->nx);
    cJSON_AddNumberToObject(data, "stride", r->stride);
    cJSON_AddNumberToObject(data, "tny", r->tny);
    cJSON_AddNumberToObject(data, "tnx", r->tnx);
    cJSON_AddNumberToObject(data, "th", r->th);
    cJSON_AddNumberToObject(data, "tw", r->tw);
    cJSON *vir = cJSON_AddArrayToObject(data, "viridis");
    for (int i = 0; i < 256; i++) {
        uint8_t c[3];
        lcae_colormap_viridis(i / 255.0, c);
        for (int k = 0; k < 3; k++)
            cJSON_AddItemToArray(vir, cJSON_CreateNumber(c[k]));
    }
    sb_explore(&b, r, data);
    int rc = sb_sprite(&b, r);

    sb_str(&b, "<h2 id=\"figures\">Figures</h2>\n");
    for (int f = 0; f < r->nfig; f++) {
        sb_printf(&b, "<figure><img width=\"%d\" height=\"%d\" alt=\"", r->fig[f].w, r->fig[f].h);
        sb_esc(&b, r->fig[f].file);
        sb_str(&b, "\" src=\"");
        sb_png(&b, r->fig[f].png, r->fig[f].bytes);
        sb_str(&b, "\"><figcaption>");
        sb_esc(&b, r->fig[f].caption);
        sb_str(&b, " <i>(");
        sb_esc(&b, r->fig[f].file);
        sb_str(&b, ")</i></figcaption></figure>\n");
    }
    sb_str(&b, "<h2 id=\"dataset\">Dataset and statistics</h2>\n");
    sb_table(&b, ds);
    sb_str(&b, "<h3>Statistics</h3>\n");
    sb_table(&b, cJSON_GetObjectItemCaseSensitive(j, "stats"));
    sb_str(&b, "<h3>Virtual detectors</h3>\n");
    sb_table(&b, cJSON_GetObjectItemCaseSensitive(j, "virtual_detectors"));
    sb_clusters(&b, r);
    sb_scores(&b, cJSON_GetObjectItemCaseSensitive(j, "clusterings"));
    sb_latent_probe(&b, cJSON_GetObjectItemCaseSensitive(j, "clusterings"));
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(j, "timings");
    sb_str(&b, "<h2 id=\"timings\">Timings (seconds)</h2>\n");
    if (tm)
        sb_table(&b, tm);
    else
        sb_str(&b, "<p>not recorded</p>\n");
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(j, "config");
    sb_str(&b, "<h2 id=\"config\">Configuration</h2>\n");
    if (cf)
        sb_table(&b, cf);
    else
        sb_str(&b, "<p>not recorded</p>\n");
    sb_str(&b, "<p class=\"sub\">Every number on this page is in report.json beside it.</p>\n");

    /* the data for the script; "</" cannot end the script element inside JSON strings */
    char *dj = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    if (!dj)
        b.nomem = 1;
    sb_str(&b, "<script type=\"application/json\" id=\"lcae-data\">");
    for (const char *s = dj; s && *s; s++) {
        if (s[0] == '<' && s[1] == '/')
            sb_str(&b, "<\\");
        else
            sb_put(&b, s, 1);
    }
    free(dj);
    sb_str(&b, "</script>\n<script>\n");
    sb_str(&b, script);
    sb_str(&b, "</script>\n</body></html>\n");
    if (!rc && b.nomem)
        rc = lcae_fail(LCAE_ENOMEM, "%s: out of memory writing report.html", r->dir);
    if (!rc) {
        char *p = lcae_path_join(r->dir, "report.html");
        rc = p ? lcae_write_file_in(r->out, p, b.s, b.n) : LCAE_ENOMEM;
        free(p);
    }
    free(b.s);
    return rc;
}

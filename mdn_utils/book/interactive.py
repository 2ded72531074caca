"""Sliders that work on the static site, offline: data computed at build time, drawn in the
browser by a short inline script (no widget JavaScript, no CDN, no kernel).

Two widgets, each an ``<input type="range">`` (keyboard: arrow keys, Home, End, Page Up/Down)
with a label, an SVG drawing that re-lays itself out to the width of the page (readable on a
phone), and a text read-out of the numbers drawn (announced to screen readers):

* ``slice_slider_data`` / ``slice_slider_html`` (chapter 6): p(y | x) at each x of a grid:
  the mixture p(y | x) = sum_k pi_k N(y | mu_k, sigma_k^2), its components with
  pi_k > ``min_weight``, its mean E[y | x] = sum_k pi_k mu_k, its modes (local maxima of
  p on a fine y grid), its highest-density region (HDR) {y : p(y | x) >= c} with c chosen
  so that the region holds ``hdr_mass`` of the probability, and the true density.
* ``temperature_slider_data`` / ``temperature_slider_html`` (chapter 5): one sample of y per
  x at each tau, under the World Models convention pi_k(tau) = softmax(log pi_k / tau),
  sigma_k(tau) = sigma_k sqrt(tau) (``sampling.sample_with_temperature``; the same seed at
  every tau, so only tau changes between positions).

The data are plain dicts (JSON-ready). Large arrays travel as base64 of little-endian
unsigned integers: the true density as uint8 per x (scaled by that x's maximum), the
samples as uint16 over the plotted y range (65535 = beyond the axes, not drawn).
"""
from __future__ import annotations

import base64
import html
import json

import numpy as np

from mdn_utils import checks
from mdn_utils.problems.datasets import conditional_density, get_dataset, has_density
from mdn_utils.core.params import MixtureParams, log_softmax, scalar_mixture
from mdn_utils.core.sampling import sample_with_temperature
from mdn_utils.diagnostics.scoring import hdr_thresholds

OFF_AXES = 65535          # uint16 code of a sample beyond the plotted y range
_UINT16_TOP = 65534       # the largest code of a drawn sample


# ---------------------------------------------------------------- numbers

def _params(params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mixture_logits, means, log_sigmas) float64 ``[n, K]`` of a 1-D ``MixtureParams``."""
    return scalar_mixture(params, diagonal=True).as_1d()


def _grid(name, value, minimum=3):
    grid = checks.finite_array(name, value, ndim=1)
    if grid.size < minimum or not np.all(np.diff(grid) > 0):
        raise ValueError(f"{name} must be strictly increasing with at least {minimum} points, "
                         f"got {grid.size} points")
    return grid


def mixture_density(params: MixtureParams, y_grid, rows_per_chunk: int = 16) -> np.ndarray:
    """p(y | x) = sum_k pi_k N(y | mu_k, sigma_k^2) on ``y_grid``: ``[n, len(y_grid)]``.

    Computed ``rows_per_chunk`` rows of x at a time, so that the per-component densities
    held at once are ``[rows_per_chunk, len(y_grid), K]``, not ``[n, len(y_grid), K]``."""
    params = scalar_mixture(params, diagonal=True)
    y_grid = _grid("y_grid", y_grid)
    rows_per_chunk = checks.positive_int("rows_per_chunk", rows_per_chunk)
    return np.concatenate([params.take(slice(start, start + rows_per_chunk))
                           .component_densities(y_grid).sum(-1)
                           for start in range(0, params.n, rows_per_chunk)])


def density_modes(density, y_grid, min_height: float = 0.1) -> np.ndarray:
    """The local maxima of a density sampled on ``y_grid`` (strictly higher than the left
    neighbour, at least as high as the right one) that reach ``min_height`` times its
    highest value; each refined by the vertex of the parabola through the three points."""
    y_grid = _grid("y_grid", y_grid)
    density = checks.finite_array("density", density, ndim=1)
    if density.shape != y_grid.shape:
        raise ValueError(f"density must have the shape of y_grid {y_grid.shape}, "
                         f"got {density.shape}")
    min_height = checks.fraction("min_height", min_height, allow_zero=True)
    left, centre, right = density[:-2], density[1:-1], density[2:]
    index = 1 + np.flatnonzero((centre > left) & (centre >= right)
                               & (centre >= min_height * density.max()))
    curvature = density[index - 1] - 2 * density[index] + density[index + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (density[index - 1] - density[index + 1])
                         / curvature, 0.0)
    step = np.gradient(y_grid)[index]
    return y_grid[index] + np.clip(shift, -0.5, 0.5) * step


def _intervals(inside, y_grid) -> np.ndarray:
    """The runs of True in ``inside`` ``[G]`` as (low, high) pairs of ``y_grid`` points ``[m, 2]``."""
    edges = np.diff(np.concatenate([[0], inside.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return np.stack([y_grid[starts], y_grid[stops]], axis=1)


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def decode(text: str, dtype) -> np.ndarray:
    """Inverse of the base64 packing used in the slider data (little-endian ``dtype``)."""
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def slice_slider_data(params: MixtureParams, x_values, y_range, dataset=None,
                      min_weight: float = 0.01, hdr_mass: float = 0.8,
                      keep_weight: float = 1e-4, fine_points: int = 4001,
                      true_points: int = 481, min_mode_height: float = 0.05) -> dict:
    """What the x slider draws, for the mixtures ``[n, K]`` predicted at ``x_values`` ``[n]``.

    Per x: the components with pi_k >= ``keep_weight`` as (pi_k, mu_k, sigma_k) (the page
    sums them for the mixture curve and draws those with pi_k > ``min_weight``; the rest,
    under K * keep_weight of the mass, add nothing visible), the mean sum_k pi_k mu_k, the
    modes (``density_modes`` of the full mixture on ``fine_points`` y values, peaks of at
    least ``min_mode_height`` times the highest), the
    ``hdr_mass`` HDR (its level by ``scoring.hdr_thresholds`` on that grid, drawn as the runs
    of grid points at or above it, with the share of the grid's mass they hold), and, if
    ``dataset`` has an exact density, p_true(y | x) on ``true_points`` y values packed as
    uint8 of p / max p with the max alongside.
    """
    logits, means, log_sigmas = _params(params)
    x_values = _grid("x_values", x_values, minimum=2)
    if x_values.shape[0] != logits.shape[0]:
        raise ValueError(f"x_values has {x_values.shape[0]} values, the mixture parameters "
                         f"{logits.shape[0]} rows")
    y_range = checks.finite_array("y_range", y_range, ndim=1)
    if y_range.shape != (2,) or not y_range[1] > y_range[0]:
        raise ValueError(f"y_range must be (low, high) with high > low, got {y_range!r}")
    min_weight = checks.fraction("min_weight", min_weight, allow_zero=True)
    hdr_mass = checks.fraction("hdr_mass", hdr_mass)
    min_mode_height = checks.fraction("min_mode_height", min_mode_height, allow_zero=True)
    keep_weight = checks.fraction("keep_weight", keep_weight, allow_zero=True)
    if keep_weight > min_weight:
        raise ValueError(f"keep_weight ({keep_weight}) must not exceed min_weight ({min_weight})")
    fine_points = checks.positive_int("fine_points", fine_points, minimum=3)
    true_points = checks.positive_int("true_points", true_points, minimum=3)
    if dataset is not None:
        dataset = get_dataset(dataset)
        if dataset.y_dim != 1 or dataset.x_dim != 1:
            raise ValueError(f"dataset {dataset.name!r} is not 1-D in x and y")

    fine_y = np.linspace(*y_range, fine_points)
    weights = np.exp(log_softmax(logits))
    sigmas = np.exp(log_sigmas)
    density = mixture_density(params, fine_y)
    levels = hdr_thresholds(density, fine_y[1] - fine_y[0], [hdr_mass])[:, 0]
    components, modes, hdr, hdr_levels, hdr_masses = [], [], [], [], []
    for i in range(len(x_values)):
        kept = np.flatnonzero(weights[i] >= keep_weight)
        kept = kept[np.argsort(means[i, kept])]
        components.append([[round(float(weights[i, k]), 5), round(float(means[i, k]), 4),
                            round(float(sigmas[i, k]), 4)] for k in kept])
        modes.append([round(float(m), 3) for m in
                      density_modes(density[i], fine_y, min_mode_height)])
        inside = density[i] >= levels[i]
        hdr.append(np.round(_intervals(inside, fine_y), 3).tolist())
        hdr_levels.append(round(float(levels[i]), 5))
        hdr_masses.append(round(float(density[i, inside].sum() / density[i].sum()), 4))
    out = {
        "kind": "slice",
        "x": np.round(x_values, 4).tolist(),
        "yRange": [float(y_range[0]), float(y_range[1])],
        "minWeight": min_weight,
        "minModeHeight": min_mode_height,
        "keepWeight": keep_weight,
        "hdrMass": hdr_mass,
        "components": components,
        "mean": np.round((weights * means).sum(1), 3).tolist(),
        "modes": modes,
        "hdr": hdr,
        "hdrLevel": hdr_levels,
        "hdrEnclosed": hdr_masses,
        "modelMax": np.round(density.max(1), 5).tolist(),
    }
    if dataset is not None and has_density(dataset):
        true_y = np.linspace(*y_range, true_points)
        true = conditional_density(dataset, x_values[:, None], true_y[None, :])
        peak = true.max(1)
        scaled = np.where(peak[:, None] > 0, true / np.where(peak > 0, peak, 1)[:, None], 0)
        out["true"] = {"points": true_points, "max": np.round(peak, 5).tolist(),
                       "uint8": [_b64(np.round(255 * row).astype(np.uint8)) for row in scaled]}
    return out


def temperature_slider_data(params: MixtureParams, x_values, taus, y_view,
                            data_y_range, data=None, seed: int = 0,
                            max_data_points: int = 3000) -> dict:
    """What the tau slider draws: one sample of y per x (``[n]``, mixtures ``[n, K]``) at
    each tau, drawn with ``sampling.sample_with_temperature(..., tau, seed=seed)``, packed
    as uint16 over ``y_view`` (``OFF_AXES`` beyond it), with the share of samples outside
    ``data_y_range`` and beyond ``y_view``; ``data=(x, y)`` (at most ``max_data_points``)
    is drawn in grey behind."""
    logits, means, log_sigmas = _params(params)
    x_values = _grid("x_values", x_values, minimum=2)
    if x_values.shape[0] != logits.shape[0]:
        raise ValueError(f"x_values has {x_values.shape[0]} values, the mixture parameters "
                         f"{logits.shape[0]} rows")
    taus = _grid("taus", taus, minimum=2)
    if taus[0] <= 0:
        raise ValueError(f"taus must all be > 0, got minimum {taus[0]}")
    bounds = {}
    for name, value in (("y_view", y_view), ("data_y_range", data_y_range)):
        value = checks.finite_array(name, value, ndim=1)
        if value.shape != (2,) or not value[1] > value[0]:
            raise ValueError(f"{name} must be (low, high) with high > low, got {value!r}")
        bounds[name] = value
    low, high = bounds["y_view"]
    data_low, data_high = bounds["data_y_range"]
    seed = checks.positive_int("seed", seed, minimum=0)
    max_data_points = checks.positive_int("max_data_points", max_data_points)

    def pack(y):
        code = np.round((y - low) / (high - low) * _UINT16_TOP)
        return np.where((y < low) | (y > high), OFF_AXES, code).astype(np.uint16)

    samples, outside, beyond = [], [], []
    for tau in taus:
        y = sample_with_temperature(params, tau=float(tau), seed=seed)[0]
        samples.append(_b64(pack(y)))
        outside.append(float(np.mean((y < data_low) | (y > data_high))))
        beyond.append(float(np.mean((y < low) | (y > high))))
    out = {
        "kind": "temperature",
        "x": [float(x_values[0]), float(x_values[-1]), int(len(x_values))],
        "xLinear": bool(np.allclose(x_values, np.linspace(x_values[0], x_values[-1],
                                                          len(x_values)))),
        "taus": np.round(taus, 4).tolist(),
        "yView": [float(low), float(high)],
        "dataRange": [float(data_low), float(data_high)],
        "samples": samples,
        "outside": outside,
        "beyond": beyond,
    }
    if not out["xLinear"]:
        raise ValueError("x_values must be evenly spaced (np.linspace)")
    if data is not None:
        data_x, data_y = checks.paired_columns(*data)
        data_x, data_y = data_x[:max_data_points], data_y[:max_data_points]
        x_low, x_high = float(x_values[0]), float(x_values[-1])
        keep = (data_x >= x_low) & (data_x <= x_high)
        out["data"] = {
            "x": _b64(np.round((data_x[keep] - x_low) / (x_high - x_low) * _UINT16_TOP)
                      .astype(np.uint16)),
            "y": _b64(pack(data_y[keep])),
        }
    return out


def slice_slider_from_model(model, dataset, num_x: int = 201, y_pad: float = 1.5,
                            **options) -> dict:
    """``slice_slider_data`` for a trained 1-D MDN on ``num_x`` values of x spanning the
    dataset's x range (an odd ``num_x`` puts x = 0 in the middle of a symmetric range)."""
    from mdn_utils.core.model import predict_mixture  # the TensorFlow side, imported only when needed
    dataset = get_dataset(dataset)
    num_x = checks.positive_int("num_x", num_x, minimum=2)
    y_pad = float(checks.finite_array("y_pad", y_pad, ndim=0))
    x_values = np.linspace(*dataset.x_range, num_x)
    y_range = (dataset.y_range[0] - y_pad, dataset.y_range[1] + y_pad)
    return slice_slider_data(predict_mixture(model, x_values), x_values, y_range,
                             dataset=dataset, **options)


# ---------------------------------------------------------------- HTML

_CSS = """
.mdn-slider{max-width:760px;margin:1em 0;font:14px/1.4 system-ui,sans-serif}
.mdn-slider .mdn-controls{display:flex;flex-wrap:wrap;align-items:center;gap:.4em .6em;
 padding:6px}
.mdn-slider label{font-weight:600}
.mdn-slider output{display:inline-block;text-align:left;font-variant-numeric:tabular-nums}
.mdn-slider .mdn-track{display:flex;align-items:center;gap:.5em;flex:1 1 260px;min-width:0}
.mdn-slider .mdn-end{font-size:13px;color:#555;font-variant-numeric:tabular-nums}
.mdn-slider input[type=range]{flex:1 1 auto;min-width:0;height:2em;margin:0}
.mdn-slider input[type=range]:focus-visible{outline:3px solid #0072b2;outline-offset:2px}
.mdn-slider svg{display:block;width:100%;height:auto;background:#fff}
.mdn-slider .mdn-readout{margin:.3em 0 0;font-variant-numeric:tabular-nums;white-space:pre-line}
.mdn-slider .mdn-formula{margin:.2em 0;font-style:italic}
.mdn-slider .mdn-key{display:flex;flex-wrap:wrap;gap:.2em 1.2em;margin:.3em 0;font-size:13px}
.mdn-slider .mdn-key span::before{content:"";display:inline-block;width:1.6em;height:0;
 margin-right:.35em;vertical-align:middle;border-top:3px solid var(--c)}
.mdn-slider .mdn-key span.dash::before{border-top-style:dashed}
.mdn-slider .mdn-key span.box::before{height:.8em;border:1px solid #bbb;background:var(--c)}
.mdn-slider .mdn-key span.dot::before{width:.6em;height:.6em;border:0;border-radius:50%;
 background:var(--c)}
.mdn-slider .mdn-key span.tri::before{content:"▼";width:auto;height:auto;border:0;
 color:var(--c)}
"""

# One script for both widgets; it finds its own container (document.currentScript), reads
# the JSON beside it and draws into the SVG. No globals besides the function, no network.
_JS = r"""
(function(){
var box=document.currentScript.parentNode, NS="http://www.w3.org/2000/svg";
var D=JSON.parse(box.querySelector("script[type='application/json']").textContent);
var input=box.querySelector("input"), out=box.querySelector("output"),
    svg=box.querySelector("svg"), readout=box.querySelector(".mdn-readout");
function b64(s,T){var b=atob(s),u=new Uint8Array(b.length);
  for(var i=0;i<b.length;i++)u[i]=b.charCodeAt(i);return new T(u.buffer);}
function el(name,attrs,parent){var e=document.createElementNS(NS,name);
  for(var k in attrs)e.setAttribute(k,attrs[k]);(parent||svg).appendChild(e);return e;}
function fmt(v,d){return (Math.abs(v)<0.5*Math.pow(10,-d)?0:v).toFixed(d);}
var W,H,L=50,R=10,T=12,B=36;
function nice(span,most){var p=Math.pow(10,Math.floor(Math.log10(span/most))),m=[1,2,5,10].find(function(m){return span/(m*p)<=most;});
  var step=m*p;return {step:step,digits:Math.max(0,-Math.floor(Math.log10(step)+1e-9))};}
function frame(xlo,xhi,ylo,yhi,xlabel,ylabel){
  W=Math.max(300,Math.round(svg.parentNode.clientWidth||640));H=Math.round(Math.min(420,Math.max(240,W*0.55)));
  svg.setAttribute("viewBox","0 0 "+W+" "+H);svg.setAttribute("width",W);svg.setAttribute("height",H);
  while(svg.firstChild)svg.removeChild(svg.firstChild);
  var sx=function(v){return L+(v-xlo)/(xhi-xlo)*(W-L-R);},
      sy=function(v){return H-B-(v-ylo)/(yhi-ylo)*(H-T-B);};
  var g=el("g",{"class":"mdn-axes","data-x0":xlo,"data-x1":xhi,"data-y0":ylo,"data-y1":yhi,
    "data-left":L,"data-right":W-R,"data-top":T,"data-bottom":H-B});
  el("rect",{x:L,y:T,width:W-L-R,height:H-T-B,fill:"none",stroke:"#888"},g);
  var xs=nice(xhi-xlo,8);
  for(var v=Math.ceil(xlo/xs.step)*xs.step;v<=xhi+1e-9;v+=xs.step){
    el("line",{x1:sx(v),x2:sx(v),y1:H-B,y2:H-B+4,stroke:"#555"},g);
    el("text",{x:sx(v),y:H-B+16,"text-anchor":"middle","font-size":12},g).textContent=fmt(v,xs.digits);}
  var ys=nice(yhi-ylo,5);
  for(var v=Math.ceil(ylo/ys.step)*ys.step;v<=yhi+1e-9;v+=ys.step){
    el("line",{x1:L-4,x2:L,y1:sy(v),y2:sy(v),stroke:"#555"},g);
    el("text",{x:L-6,y:sy(v)+4,"text-anchor":"end","font-size":11},g).textContent=fmt(v,ys.digits);}
  el("text",{x:(L+W-R)/2,y:H-4,"text-anchor":"middle","font-size":13},g).textContent=xlabel;
  el("text",{x:12,y:(T+H-B)/2,"text-anchor":"middle","font-size":13,
    transform:"rotate(-90 12 "+((T+H-B)/2)+")"},g).textContent=ylabel;
  return {sx:sx,sy:sy,g:g};}
function path(points,attrs){var d="";for(var i=0;i<points.length;i++)
  d+=(i?"L":"M")+points[i][0].toFixed(1)+" "+points[i][1].toFixed(1);attrs.d=d;attrs.fill=attrs.fill||"none";
  return el("path",attrs);}
function normal(y,w,m,s){var u=(y-m)/s;return w*Math.exp(-0.5*u*u)/(s*2.5066282746310002);}
function drawSlice(i){
  var x=D.x[i],c=D.components[i],y0=D.yRange[0],y1=D.yRange[1],tr=D.true,tmax=0;
  if(tr)tmax=tr.max[i];var top=1.12*Math.max(D.modelMax[i],tmax);
  var f=frame(y0,y1,0,top,"y","p(y | x = "+fmt(x,2)+")");
  var n=Math.max(200,2*(W-L-R)),ys=[],mix=[];
  for(var j=0;j<=n;j++){var y=y0+(y1-y0)*j/n,p=0;for(var k=0;k<c.length;k++)p+=normal(y,c[k][0],c[k][1],c[k][2]);
    ys.push(y);mix.push(p);}
  var hdr=el("g",{"class":"mdn-hdr"});
  D.hdr[i].forEach(function(r){el("rect",{x:f.sx(r[0]),width:Math.max(1,f.sx(r[1])-f.sx(r[0])),y:T,height:H-T-B,
    fill:"#2ca02c","fill-opacity":0.13,"data-y0":r[0],"data-y1":r[1]},hdr);});
  var comps=el("g",{"class":"mdn-components"});
  c.forEach(function(q){if(q[0]<=D.minWeight)return;var pts=[];
    for(var j=0;j<=n;j++)pts.push([f.sx(ys[j]),f.sy(normal(ys[j],q[0],q[1],q[2]))]);
    comps.appendChild(path(pts,{stroke:"#ff7f0e","stroke-width":1,"data-weight":q[0],"data-mu":q[1]}));});
  path(ys.map(function(y,j){return [f.sx(y),f.sy(mix[j])];}),{"class":"mdn-mixture",stroke:"#1f77b4","stroke-width":2.2});
  if(tr){var v=b64(tr.uint8[i],Uint8Array),pts=[];   // the truth over the model, dashed: both stay visible
    for(var j=0;j<v.length;j++)pts.push([f.sx(y0+(y1-y0)*j/(v.length-1)),f.sy(v[j]/255*tmax)]);
    path(pts,{"class":"mdn-true",stroke:"#000","stroke-width":1.4,"stroke-dasharray":"5 3"});}
  var mean=D.mean[i];el("line",{"class":"mdn-mean","data-y":mean,x1:f.sx(mean),x2:f.sx(mean),y1:T,y2:H-B,
    stroke:"#9467bd","stroke-width":2,"stroke-dasharray":"2 3"});
  D.modes[i].forEach(function(m){var j=Math.round((m-y0)/(y1-y0)*n),py=f.sy(mix[Math.max(0,Math.min(n,j))]);
    el("path",{"class":"mdn-mode","data-y":m,d:"M"+(f.sx(m)-6).toFixed(1)+" "+(py-12).toFixed(1)+"h12l-6 9z",fill:"#d62728"});});
  readout.textContent=sliceText(i);
  out.textContent=fmt(x,2);input.setAttribute("aria-valuetext","x = "+fmt(x,2));}
function sliceText(i){
  var shown=D.components[i].filter(function(q){return q[0]>D.minWeight;}).length;
  return "x = "+fmt(D.x[i],2)+": modes (peaks of at least "+Math.round(100*D.minModeHeight)+"% of the highest) at y = "+D.modes[i].map(function(m){return fmt(m,2);}).join(", ")+
    ";\nmean "+fmt(D.mean[i],2)+";\n"+Math.round(100*D.hdrMass)+"% highest-density region "+
    D.hdr[i].map(function(r){return "["+fmt(r[0],2)+", "+fmt(r[1],2)+"]";}).join(" \u222a ")+
    ";\n"+shown+" components with weight > "+D.minWeight+".";}
function drawTemperature(i){
  var tau=D.taus[i],x0=D.x[0],x1=D.x[1],nx=D.x[2],v0=D.yView[0],v1=D.yView[1];
  var f=frame(x0,x1,v0,v1,"x","y");
  el("rect",{"class":"mdn-data-range",x:L,width:W-L-R,y:f.sy(D.dataRange[1]),height:f.sy(D.dataRange[0])-f.sy(D.dataRange[1]),
    fill:"#000000","fill-opacity":0.06},f.g);
  var top=65534,d="";
  if(D.data){var dx=b64(D.data.x,Uint16Array),dy=b64(D.data.y,Uint16Array);
    for(var j=0;j<dx.length;j++)if(dy[j]<65535)d+="M"+f.sx(x0+(x1-x0)*dx[j]/top).toFixed(1)+" "+f.sy(v0+(v1-v0)*dy[j]/top).toFixed(1)+"h0";
    el("path",{"class":"mdn-data",d:d,stroke:"#999","stroke-opacity":0.5,"stroke-width":2.5,"stroke-linecap":"round"});}
  var s=b64(D.samples[i],Uint16Array);d="";
  for(var j=0;j<s.length;j++)if(s[j]<65535)d+="M"+f.sx(x0+(x1-x0)*j/(nx-1)).toFixed(1)+" "+f.sy(v0+(v1-v0)*s[j]/top).toFixed(1)+"h0";
  el("path",{"class":"mdn-samples",d:d,stroke:"#d62728","stroke-opacity":0.7,"stroke-width":3,"stroke-linecap":"round"});
  readout.textContent=temperatureText(i);
  out.textContent=String(tau);input.setAttribute("aria-valuetext","\u03c4 = "+tau);}
function temperatureText(i){
  return "\u03c4 = "+D.taus[i]+": "+(100*D.outside[i]).toFixed(1)+"% of the samples outside the range of the data (shaded),\n"+
    (100*D.beyond[i]).toFixed(2)+"% beyond these axes.";}
var draw=D.kind==="slice"?drawSlice:drawTemperature, text=D.kind==="slice"?sliceText:temperatureText;
// The read-out keeps the height of its longest text at this width, so that moving the
// slider never makes the page below it jump.
function reserve(){var most=0;readout.style.minHeight="";
  for(var i=0;i<=parseInt(input.max,10);i++){readout.textContent=text(i);most=Math.max(most,readout.offsetHeight);}
  readout.style.minHeight=most+"px";}
function update(){var i=parseInt(input.value,10);draw(i);svg.setAttribute("data-index",i);}
input.addEventListener("input",update);input.addEventListener("change",update);
var pending;window.addEventListener("resize",function(){clearTimeout(pending);pending=setTimeout(function(){reserve();update();},100);});
reserve();update();
})();
"""


def _over_white(hex_colour: str, opacity: float) -> str:
    """The colour a fill of ``hex_colour`` at ``opacity`` shows on a white background."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - opacity * (255 - c)):02x}" for c in rgb)


# The legend's swatches show the bands as the drawing fills them (colour, opacity).
_HDR_SWATCH = _over_white("#2ca02c", 0.13)
_DATA_RANGE_SWATCH = _over_white("#000000", 0.06)


def _two_decimals(value: float) -> str:
    """x as the slider's label shows it (the script's fmt(v, 2): no "-0.00")."""
    return f"{0.0 if abs(value) < 0.005 else value:.2f}"


def _json_for_script(payload: dict) -> str:
    """JSON that is safe inside a <script> element (no "</" can close it)."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _widget(payload, element_id, label_html, values, initial, description, extra_html="",
            key_html=""):
    if not isinstance(element_id, str) or not element_id.replace("-", "").isalnum():
        raise ValueError(f"element_id must be letters, digits and '-', got {element_id!r}")
    count = len(values)
    initial = checks.positive_int("initial", initial, minimum=0)
    if initial >= count:
        raise ValueError(f"initial must be an index below {count}, got {initial}")
    e = html.escape(element_id)
    return (
        f'<div class="mdn-slider" id="{e}">'
        f"<style>{_CSS}</style>"
        f"{extra_html}"
        f'<div class="mdn-controls"><label for="{e}-input">{label_html} = '
        f'<output for="{e}-input" style="min-width:{max(map(len, values))}ch">&nbsp;</output>'
        f'</label><span class="mdn-track"><span class="mdn-end" aria-hidden="true">'
        f'{html.escape(values[0])}</span>'
        f'<input type="range" id="{e}-input" min="0" max="{count - 1}" step="1" '
        f'value="{initial}" aria-describedby="{e}-readout">'
        f'<span class="mdn-end" aria-hidden="true">{html.escape(values[-1])}</span></span></div>'
        f'<div class="mdn-key" aria-hidden="true">{key_html}</div>'
        f'<svg role="img" aria-label="{html.escape(description)}" '
        f'viewBox="0 0 640 340"></svg>'
        f'<p class="mdn-readout" id="{e}-readout" aria-live="polite">{html.escape(description)}'
        f"</p>"
        f'<script type="application/json">{_json_for_script(payload)}</script>'
        f"<script>{_JS}</script></div>")


def slice_slider_html(payload: dict, element_id: str = "mdn-x-slider", initial=None) -> str:
    """The x slider as a self-contained HTML fragment (inline CSS, data and script)."""
    if not isinstance(payload, dict) or payload.get("kind") != "slice":
        raise ValueError("payload must be the dict returned by slice_slider_data")
    if initial is None:
        initial = int(np.argmin(np.abs(np.asarray(payload["x"]))))
    shown_values = [_two_decimals(x) for x in payload["x"]]
    key = ('<span style="--c:#1f77b4">MDN mixture</span>'
           '<span style="--c:#ff7f0e">components with weight &gt; '
           f'{payload["minWeight"]:g}</span>'
           + ('<span class="dash" style="--c:#000">true density</span>' if "true" in payload
              else "")
           + '<span class="dash" style="--c:#9467bd">mean</span>'
           f'<span class="box" style="--c:{_HDR_SWATCH}">'
           f'{round(100 * payload["hdrMass"])}% highest-density region</span>'
           '<span class="tri" style="--c:#d62728">modes</span>')
    return _widget(payload, element_id, "<var>x</var>", shown_values, initial,
                   "Predicted density p(y | x) at the x chosen with the slider; the text "
                   "below lists its modes, mean and highest-density region.", key_html=key)


def temperature_slider_html(payload: dict, element_id: str = "mdn-tau-slider",
                            initial=None) -> str:
    """The tau slider as a self-contained HTML fragment, with the convention's formula."""
    if not isinstance(payload, dict) or payload.get("kind") != "temperature":
        raise ValueError("payload must be the dict returned by temperature_slider_data")
    if initial is None:
        initial = int(np.argmin(np.abs(np.log(np.asarray(payload["taus"])))))
    formula = ('<p class="mdn-formula">World Models convention: '
               "&pi;<sub>k</sub>(&tau;) = softmax(log &pi;<sub>k</sub> / &tau;), "
               "&sigma;<sub>k</sub>(&tau;) = &sigma;<sub>k</sub>&thinsp;&radic;&tau;</p>")
    key = ('<span class="dot" style="--c:#d62728">one sample of y per x</span>'
           + ('<span class="dot" style="--c:#aaa">data</span>' if "data" in payload else "")
           + f'<span class="box" style="--c:{_DATA_RANGE_SWATCH}">range of the data</span>')
    return _widget(payload, element_id, "&tau;", [f"{t:g}" for t in payload["taus"]],
                   initial,
                   "Samples of y over the whole x range at the temperature chosen with the "
                   "slider; the text below gives the share of samples outside the data.",
                   extra_html=formula, key_html=key)


def page_bytes(text: str) -> int:
    """Size in bytes of an HTML fragment as UTF-8 (what it adds to a page)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return len(text.encode("utf-8"))

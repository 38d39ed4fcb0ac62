// imgui.wgsl: Dear ImGui's triangles. Vertices are in canvas CSS pixels; the
// uniform maps them to clip space. Colours are sRGB bytes written unchanged to
// a non-sRGB canvas, as ImGui expects.
struct Uniforms {
    scale: vec2<f32>,
    translate: vec2<f32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var samp: sampler;
@group(1) @binding(0) var tex: texture_2d<f32>;

struct VertexIn {
    @location(0) pos: vec2<f32>,
    @location(1) uv: vec2<f32>,
    @location(2) color: vec4<f32>,
};

struct VertexOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) uv: vec2<f32>,
};

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    var out: VertexOut;
    out.pos = vec4<f32>(v.pos * u.scale + u.translate, 0.0, 1.0);
    out.color = v.color;
    out.uv = v.uv;
    return out;
}

@fragment
fn fs_main(v: VertexOut) -> @location(0) vec4<f32> {
    return v.color * textureSample(tex, samp, v.uv);
}

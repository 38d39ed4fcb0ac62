// image_view.wgsl: draws the current image into the viewer with brightness,
// contrast and gamma. The levels formula must match src/image/image_levels.h exactly
// (the CPU reference; the e2e test checks screen pixels against it).
struct View {
    // Image rectangle on the canvas, in framebuffer pixels: x0, y0, x1, y1.
    rect: vec4<f32>,
    // Framebuffer size in pixels (xy); z = 1 to fetch texels exactly (zoomed
    // in or 1:1), 0 to filter (zoomed out).
    fb: vec4<f32>,
    // brightness, contrast, gamma, unused
    levels: vec4<f32>,
};

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var samp: sampler;
@group(0) @binding(2) var tex: texture_2d<f32>;

struct VertexOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VertexOut {
    // Two triangles covering the rectangle.
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0));
    let c = corners[i];
    let p = mix(view.rect.xy, view.rect.zw, c);
    var out: VertexOut;
    out.pos = vec4<f32>(p.x / view.fb.x * 2.0 - 1.0, 1.0 - p.y / view.fb.y * 2.0, 0.0, 1.0);
    out.uv = c;
    return out;
}

fn apply_levels(rgb: vec3<f32>) -> vec3<f32> {
    let brightness = view.levels.x;
    let contrast = view.levels.y;
    let gamma = view.levels.z;
    var x = clamp((rgb - vec3<f32>(0.5)) * contrast + vec3<f32>(0.5) + vec3<f32>(brightness),
                  vec3<f32>(0.0), vec3<f32>(1.0));
    x = select(pow(x, vec3<f32>(1.0 / gamma)), vec3<f32>(0.0), x <= vec3<f32>(0.0));
    return x;
}

@fragment
fn fs_main(v: VertexOut) -> @location(0) vec4<f32> {
    let size = vec2<f32>(textureDimensions(tex));
    var color: vec4<f32>;
    if (view.fb.z > 0.5) {
        let texel = clamp(vec2<i32>(floor(v.uv * size)), vec2<i32>(0), vec2<i32>(size) - vec2<i32>(1));
        color = textureLoad(tex, texel, 0);
    } else {
        color = textureSampleLevel(tex, samp, v.uv, 0.0);
    }
    // Images are shown opaque over the viewer background, as a clinician expects.
    let rgb = apply_levels(color.rgb);
    let bg = vec3<f32>(0.08, 0.08, 0.09);
    return vec4<f32>(mix(bg, rgb, color.a), 1.0);
}

"""OpenGL rendering of labelled surfaces through moderngl and a headless EGL context.

One :class:`Renderer` per process (the GL context is created once). A frame is rendered in two
passes over the same geometry, into float32 render targets:

* front pass (depth test ``<``, cleared to the far plane): the nearest surface per pixel gives the
  lit RGB, the mask, the front normal, the front depth, I/U/V, the instance id and the garment label;
* back pass (depth test ``>``, cleared to the near plane): the farthest surface per pixel gives the
  back normal and back depth.

Conventions: normals are unit vectors in the camera frame (x right, y up, z toward the camera),
so front normals mostly have z > 0 and back normals (the outward normal of the surface seen from
behind) mostly have z < 0; PIFuHD's back-normal images are these maps as seen by a camera turned
180 degrees about y and mirrored back onto the front image, i.e. ``(-x, y, -z)`` at the same
pixel: :func:`back_normals_as_seen_from_behind`. Depth is ``-z_camera`` in metres. Row 0 is the
top of the image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from human3d.errors import Human3DError
from human3d.geometry.cameras import Camera

SH_BANDS = 9

_VERTEX_SHADER = """
#version 330
uniform mat4 view;
uniform mat4 proj;
in vec3 in_pos;
in vec3 in_nrm;
in vec3 in_iuv;
in vec3 in_col_a;
in vec3 in_col_b;
in vec4 in_mat;
out vec3 v_world;
out vec3 v_nrm;
flat out float v_part;
out vec2 v_uv;
flat out vec3 v_col_a;
flat out vec3 v_col_b;
flat out vec4 v_mat;
out float v_depth;
void main() {
    vec4 cam = view * vec4(in_pos, 1.0);
    gl_Position = proj * cam;
    v_world = in_pos;
    v_nrm = in_nrm;
    v_part = in_iuv.x;
    v_uv = in_iuv.yz;
    v_col_a = in_col_a;
    v_col_b = in_col_b;
    v_mat = in_mat;
    v_depth = -cam.z;
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform mat4 view;
uniform vec3 ambient;
uniform vec3 light_dir;
uniform vec3 light_rgb;
uniform vec3 sh[9];
uniform sampler2DArray photos;  // photo prints, one layer per photo (Renderer.set_photos)
in vec3 v_world;
in vec3 v_nrm;
flat in float v_part;
in vec2 v_uv;
flat in vec3 v_col_a;
flat in vec3 v_col_b;
flat in vec4 v_mat;   // pattern id (PHOTO_PATTERN + layer: a photo print), frequency (1/m), instance, garment label
in float v_depth;
layout(location = 0) out vec4 o_color;   // lit RGB, garment label (>= 1 on every surface)
layout(location = 1) out vec4 o_normal;  // camera-frame normal, depth
layout(location = 2) out vec4 o_iuv;     // I, U, V, instance id

float hash(vec3 p) { return fract(sin(dot(p, vec3(12.9898, 78.233, 37.719))) * 43758.5453); }
float value_noise(vec3 p) {
    vec3 i = floor(p); vec3 f = fract(p); f = f * f * (3.0 - 2.0 * f);
    float n000 = hash(i), n100 = hash(i + vec3(1,0,0)), n010 = hash(i + vec3(0,1,0)), n110 = hash(i + vec3(1,1,0));
    float n001 = hash(i + vec3(0,0,1)), n101 = hash(i + vec3(1,0,1));
    float n011 = hash(i + vec3(0,1,1)), n111 = hash(i + vec3(1,1,1));
    return mix(mix(mix(n000, n100, f.x), mix(n010, n110, f.x), f.y),
               mix(mix(n001, n101, f.x), mix(n011, n111, f.x), f.y), f.z);
}
float pattern(vec3 p, float kind, float freq) {
    if (kind < 0.5) return 0.25 * value_noise(p * freq);                 // plain, slightly mottled
    if (kind < 1.5) return step(0.5, fract(p.y * freq));                 // horizontal stripes
    if (kind < 2.5) return mod(floor(p.x * freq) + floor(p.y * freq) + floor(p.z * freq), 2.0);  // checks
    if (kind < 3.5) return smoothstep(0.35, 0.65, value_noise(p * freq)); // blotches (camouflage, print)
    return step(0.5, fract((p.x + p.y) * freq));                          // diagonal stripes
}
vec3 photo_print(vec3 p, vec3 n, float layer, float freq) {
    // the photo projected along the three axes, blended by how much the surface faces each (triplanar)
    vec3 w = pow(abs(n), vec3(4.0));
    w /= w.x + w.y + w.z;
    return w.x * texture(photos, vec3(p.zy * freq, layer)).rgb
         + w.y * texture(photos, vec3(p.xz * freq, layer)).rgb
         + w.z * texture(photos, vec3(p.xy * freq, layer)).rgb;
}
vec3 sh_irradiance(vec3 n) {
    return sh[0] * 0.282095
         + sh[1] * 0.488603 * n.y + sh[2] * 0.488603 * n.z + sh[3] * 0.488603 * n.x
         + sh[4] * 1.092548 * n.x * n.y + sh[5] * 1.092548 * n.y * n.z
         + sh[6] * 0.315392 * (3.0 * n.z * n.z - 1.0)
         + sh[7] * 1.092548 * n.x * n.z + sh[8] * 0.546274 * (n.x * n.x - n.y * n.y);
}
void main() {
    vec3 n = normalize(v_nrm);
    vec3 albedo = v_mat.x < PHOTO_PATTERN - 0.5
        ? mix(v_col_a, v_col_b, pattern(v_world, v_mat.x, v_mat.y))
        : v_col_a * photo_print(v_world, n, v_mat.x - PHOTO_PATTERN, v_mat.y);  // the print, tinted
    vec3 light = ambient + max(sh_irradiance(n), 0.0) + light_rgb * max(dot(n, normalize(light_dir)), 0.0);
    o_color = vec4(clamp(albedo * light, 0.0, 1.0), v_mat.w);
    o_normal = vec4(normalize(mat3(view) * n), v_depth);
    o_iuv = vec4(v_part, v_uv, v_mat.z);
}
"""

_FLOATS_PER_CORNER = 3 + 3 + 3 + 3 + 3 + 4
PHOTO_PATTERN = 5  # a material pattern of PHOTO_PATTERN + k prints photo layer k (Renderer.set_photos)
PHOTO_SIZE = 512  # pixels of a photo layer's side
_FRAGMENT_SHADER = _FRAGMENT_SHADER.replace("#version 330", f"#version 330\n#define PHOTO_PATTERN {PHOTO_PATTERN}.0")


@dataclass
class Material:
    """Procedural appearance: two colours mixed by a solid 3-D pattern in world space; or a photo print (pattern
    ``PHOTO_PATTERN + k``: photo ``k`` of :meth:`Renderer.set_photos` projected along the world axes, tinted by
    ``color_a``)."""

    color_a: tuple[float, float, float]
    color_b: tuple[float, float, float]
    pattern: int = 0  # 0 plain, 1 stripes, 2 checks, 3 blotches, 4 diagonal stripes, PHOTO_PATTERN + k photo k
    frequency: float = 10.0  # pattern repeats per metre (a photo print: the photo's repeats per metre)


@dataclass
class Surface:
    """A triangle mesh with DensePose labels per face corner, ready to render."""

    vertices: np.ndarray  # (V, 3) float, world metres
    faces: np.ndarray  # (F, 3) int
    face_parts: np.ndarray  # (F,) uint8, DensePose part 1..24 (0 = unlabelled)
    corner_uv: np.ndarray  # (F, 3, 2) float in [0, 1]
    material: Material
    instance: int = 1  # person id, 1..255
    label: int = 1  # garment class >= 1 (see human3d.synth.clothing.LABELS); the mask is label > 0
    # (F, 3, 3) RGB per corner (e.g. a scan's texture); replaces the material's colours
    corner_colors: np.ndarray | None = None
    normals: np.ndarray | None = None  # (V, 3) shading normals; None = area-weighted vertex normals of the faces

    @classmethod
    def plain(cls, vertices: np.ndarray, faces: np.ndarray, parts: np.ndarray | None = None) -> "Surface":
        """A mesh in plain grey (for its normal, depth and mask maps), with no DensePose labels or only the part
        (1-24) of each face, ``parts`` [F], rendered as I with U, V 0."""
        faces = np.asarray(faces, dtype=np.int64)
        parts = np.zeros(len(faces), dtype=np.uint8) if parts is None else np.asarray(parts, dtype=np.uint8)
        return cls(np.asarray(vertices, dtype=np.float32), faces, parts,
                   np.zeros((len(faces), 3, 2), dtype=np.float32), Material((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))


@dataclass
class Lighting:
    """Ambient + one directional light + 2nd-order spherical harmonics (RGB, 9 coefficients)."""

    ambient: tuple[float, float, float] = (0.25, 0.25, 0.25)
    direction: tuple[float, float, float] = (0.3, 0.6, 1.0)  # toward the light, world frame
    color: tuple[float, float, float] = (0.7, 0.7, 0.7)
    sh: np.ndarray = field(default_factory=lambda: np.zeros((SH_BANDS, 3), dtype=np.float32))


@dataclass
class RenderResult:
    """Every map of one frame, (H, W, ...) with row 0 at the top."""

    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1], black where empty
    mask: np.ndarray  # (H, W) bool
    normal_front: np.ndarray  # (H, W, 3) float32, camera frame, 0 where empty
    normal_back: np.ndarray  # (H, W, 3) float32, camera frame, 0 where empty
    depth_front: np.ndarray  # (H, W) float32 metres, 0 where empty
    depth_back: np.ndarray  # (H, W) float32 metres, 0 where empty
    iuv: np.ndarray  # (H, W, 3) float32: I (0..24), U, V
    instance: np.ndarray  # (H, W) uint8, 0 = background
    label: np.ndarray  # (H, W) uint8 garment class, 0 = background


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (V, 3) of a triangle mesh."""
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices, dtype=np.float64)
    for corner in range(3):
        for axis in range(3):
            normals[:, axis] += np.bincount(faces[:, corner], face_normals[:, axis], minlength=len(vertices))
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)


def back_normals_as_seen_from_behind(normal_back: np.ndarray) -> np.ndarray:
    """Back normals in the frame of a camera turned 180 degrees about y, mirrored onto the front image."""
    return normal_back * np.array([-1.0, 1.0, -1.0], dtype=normal_back.dtype)


def _corner_buffer(surface: Surface) -> np.ndarray:
    """Interleaved per-corner vertex data (F * 3, _FLOATS_PER_CORNER) float32."""
    if not 1 <= surface.label <= 255 or not 1 <= surface.instance <= 255:
        raise ValueError("a surface's label and instance must lie in 1..255 (0 is the background)")
    faces = np.asarray(surface.faces, dtype=np.int64)
    corners = faces.reshape(-1)
    count = len(corners)
    normals = surface.normals
    if normals is None:
        normals = vertex_normals(np.asarray(surface.vertices, dtype=np.float64), faces)
    data = np.empty((count, _FLOATS_PER_CORNER), dtype=np.float32)
    data[:, 0:3] = surface.vertices[corners]
    data[:, 3:6] = normals[corners]
    data[:, 6] = np.repeat(np.asarray(surface.face_parts, dtype=np.float32), 3)
    data[:, 7:9] = np.asarray(surface.corner_uv, dtype=np.float32).reshape(-1, 2)
    if surface.corner_colors is None:
        data[:, 9:12] = surface.material.color_a
        data[:, 12:15] = surface.material.color_b
    else:
        data[:, 9:12] = data[:, 12:15] = np.asarray(surface.corner_colors, dtype=np.float32).reshape(-1, 3)
    data[:, 15:19] = (surface.material.pattern, surface.material.frequency, surface.instance, surface.label)
    return data


class Renderer:
    """Headless OpenGL renderer (EGL). Build once per process, render many frames."""

    def __init__(self) -> None:
        import moderngl

        try:
            self.ctx = moderngl.create_standalone_context(backend="egl")
        except Exception as error:  # the message names the missing piece (libEGL, a driver)
            raise Human3DError(f"EGL: cannot create a headless OpenGL context ({error})") from error
        self.program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._framebuffers: dict[tuple[int, int], object] = {}
        self._photos = None  # the texture array of set_photos
        self.photo_count = 0

    def set_photos(self, photos: list[np.ndarray]) -> None:
        """The photos that photo-print materials show (RGB float in 0..1, any sizes; each resized to a
        :data:`PHOTO_SIZE` square layer, mipmapped, repeating)."""
        import cv2

        layers = np.stack([cv2.resize(np.asarray(photo, np.float32), (PHOTO_SIZE, PHOTO_SIZE),
                                      interpolation=cv2.INTER_AREA) for photo in photos])
        pixels = np.clip(np.rint(layers * 255), 0, 255).astype(np.uint8).tobytes()
        with self.ctx:
            if self._photos is not None:
                self._photos.release()
            texture = self.ctx.texture_array((PHOTO_SIZE, PHOTO_SIZE, len(layers)), 3, pixels)
            texture.build_mipmaps()
            texture.repeat_x = texture.repeat_y = True
        self._photos, self.photo_count = texture, len(layers)

    @property
    def gl_renderer(self) -> str:
        """The driver's name, e.g. ``llvmpipe (LLVM 15.0.6, 256 bits)``."""
        return self.ctx.info["GL_RENDERER"]

    def _framebuffer(self, width: int, height: int):
        key = (width, height)
        if key not in self._framebuffers:
            targets = [self.ctx.texture((width, height), 4, dtype="f4") for _ in range(3)]
            depth = self.ctx.depth_renderbuffer((width, height))
            self._framebuffers[key] = self.ctx.framebuffer(color_attachments=targets, depth_attachment=depth)
        return self._framebuffers[key]

    def _read(self, fbo, attachment: int, width: int, height: int) -> np.ndarray:
        raw = fbo.read(components=4, attachment=attachment, dtype="f4")
        return np.frombuffer(raw, dtype=np.float32).reshape(height, width, 4)[::-1]

    def render(self, surfaces: list[Surface], camera: Camera, lighting: Lighting | None = None) -> RenderResult:
        """Render ``surfaces`` seen by ``camera``; returns every map (see the module docstring)."""
        with self.ctx:  # this renderer's context is made current: another renderer may have been used since
            return self._render(surfaces, camera, lighting)

    def _render(self, surfaces: list[Surface], camera: Camera, lighting: Lighting | None) -> RenderResult:
        import moderngl

        lighting = lighting or Lighting()
        width, height = camera.width, camera.height
        if surfaces:
            data = np.concatenate([_corner_buffer(s) for s in surfaces])
        else:
            data = np.zeros((0, _FLOATS_PER_CORNER), np.float32)
        fbo = self._framebuffer(width, height)
        program = self.program
        program["view"].write(camera.view.T.astype("f4").tobytes())
        program["proj"].write(camera.projection.T.astype("f4").tobytes())
        program["ambient"].value = tuple(float(c) for c in lighting.ambient)
        program["light_dir"].value = tuple(float(c) for c in lighting.direction)
        program["light_rgb"].value = tuple(float(c) for c in lighting.color)
        program["sh"].write(np.asarray(lighting.sh, dtype="f4").reshape(SH_BANDS, 3).tobytes())
        printed = [s.material.pattern - PHOTO_PATTERN for s in surfaces if s.material.pattern >= PHOTO_PATTERN]
        if printed and max(printed) >= self.photo_count:
            raise ValueError(f"a material prints photo {max(printed)}, but the renderer has {self.photo_count} "
                             "(Renderer.set_photos)")
        if self._photos is not None:
            self._photos.use(location=0)
            program["photos"].value = 0
        vbo = self.ctx.buffer(data.tobytes()) if len(data) else None
        vao = None
        if vbo is not None:
            vao = self.ctx.vertex_array(
                program,
                [(vbo, "3f 3f 3f 3f 3f 4f", "in_pos", "in_nrm", "in_iuv", "in_col_a", "in_col_b", "in_mat")],
            )
        fbo.use()
        self.ctx.viewport = (0, 0, width, height)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE)
        passes = {}
        for name, depth_func, clear_depth in (("front", "<", 1.0), ("back", ">", 0.0)):
            self.ctx.depth_func = depth_func
            fbo.clear(0.0, 0.0, 0.0, 0.0, depth=clear_depth)
            if vao is not None:
                vao.render(moderngl.TRIANGLES)
            if name == "front":
                passes[name] = [self._read(fbo, i, width, height) for i in range(3)]
            else:
                passes[name] = [self._read(fbo, 1, width, height)]
        self.ctx.depth_func = "<"
        if vao is not None:
            vao.release()
            vbo.release()
        color, normal, iuv = passes["front"]
        (normal_back,) = passes["back"]
        mask = color[..., 3] > 0.5
        return RenderResult(
            rgb=np.ascontiguousarray(color[..., :3]),
            mask=mask,
            normal_front=np.ascontiguousarray(normal[..., :3]),
            normal_back=np.ascontiguousarray(normal_back[..., :3]),
            depth_front=np.ascontiguousarray(normal[..., 3]),
            depth_back=np.ascontiguousarray(normal_back[..., 3]),
            iuv=np.ascontiguousarray(iuv[..., :3]),
            instance=np.rint(iuv[..., 3]).astype(np.uint8),
            label=np.rint(color[..., 3]).astype(np.uint8),
        )


_RENDERER: Renderer | None = None


def shared_renderer() -> Renderer:
    """The process-wide renderer (created on first use)."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = Renderer()
    return _RENDERER

/* stb_impl.c — the one translation unit that compiles Debian's stb_image / stb_image_write. */
#define STBI_MAX_DIMENSIONS (1 << 16)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#include <stb_image.h>
#ifndef __EMSCRIPTEN__
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#endif

/* declared in image.h: stb_image keeps its last failure code until the next failure */
void sialo_stbi_clear_failure(void);
void sialo_stbi_clear_failure(void) { stbi__g_failure_reason = NULL; }

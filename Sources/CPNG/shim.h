#include <png.h>

/* The simplified API's format macros, which Swift does not import. */
static inline png_uint_32 strata_png_format(int channels, int sixteen_bit) {
    png_uint_32 f = 0;
    if (channels == 2 || channels == 4) f |= PNG_FORMAT_FLAG_ALPHA;
    if (channels >= 3) f |= PNG_FORMAT_FLAG_COLOR;
    if (sixteen_bit) f |= PNG_FORMAT_FLAG_LINEAR;
    return f;
}

static inline int strata_png_channels(png_uint_32 format) {
    return ((format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1) + ((format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0);
}

static inline png_uint_32 strata_png_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 strata_png_flag_linear(void) { return PNG_FORMAT_FLAG_LINEAR; }

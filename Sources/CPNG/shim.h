#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H
/* libpng behind one function: writing an 8-bit grayscale or RGB image to memory with
   libpng's simplified API (png_image_write_to_memory), which reports failures in
   image.message and never prints or longjmps into Swift. */
#include <png.h>
#include <string.h>

/* Encodes width × height pixels (channels 1 = gray, 3 = RGB, row-major) as PNG into out
   (capacity *size bytes; *size becomes the PNG's length). 0 on success; otherwise message
   (capacity 64) holds libpng's reason. With out NULL, *size is set to the length needed. */
static inline int cpng_encode(const unsigned char *pixels, int width, int height, int channels,
                              void *out, size_t *size, char *message) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_alloc_size_t length = out ? (png_alloc_size_t)*size : 0;
    int ok = png_image_write_to_memory(&image, out, &length, 0, pixels, 0, NULL);
    *size = (size_t)length;
    if (!ok) {
        strncpy(message, image.message, 63);
        message[63] = 0;
        png_image_free(&image);
        return 1;
    }
    return 0;
}
#endif

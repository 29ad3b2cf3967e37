/* codec_ijg16.c — JPEG frames of 13 to 16 bits (lossless only) through dcmtk's libijg16 (io/codec_ijg_impl.h) */
#include "base/base.h"
#include "io/codecs.h"

#include <stdio.h>
#include <stdlib.h>

#include <jpeglib16.h>

#define IJG_DECODE sialo_ijg16_decode
#include "io/codec_ijg_impl.h"

/* codec_ijg8.c — JPEG frames of up to 8 bits through dcmtk's libijg8 (io/codec_ijg_impl.h) */
#include "base/base.h"
#include "io/codecs.h"

#include <stdio.h>
#include <stdlib.h>

#include <jpeglib8.h>

#define IJG_DECODE sialo_ijg8_decode
#include "io/codec_ijg_impl.h"

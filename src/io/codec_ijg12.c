/* codec_ijg12.c — JPEG frames of 9 to 12 bits through dcmtk's libijg12 (io/codec_ijg_impl.h) */
#include "base/base.h"
#include "io/codecs.h"

#include <stdio.h>
#include <stdlib.h>

#include <jpeglib12.h>

#define IJG_DECODE sialo_ijg12_decode
#include "io/codec_ijg_impl.h"

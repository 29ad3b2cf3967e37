/* dcmtk/ofstd/ofdiag.h for dcmtk's IJG libraries: the diagnostic pragmas are not needed here */
#ifndef DCMTK_DIAGNOSTIC_IGNORE_CONST_EXPRESSION_WARNING
#define DCMTK_DIAGNOSTIC_IGNORE_CONST_EXPRESSION_WARNING <stddef.h>
#endif

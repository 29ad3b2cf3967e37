/* dcmtk/ofstd/ofexport.h for dcmtk's IJG libraries, linked statically here */
#define DCMTK_DECL_EXPORT
#define DCMTK_DECL_IMPORT

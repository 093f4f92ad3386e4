// The functions are inline, in include/CKernelSupport.h; SwiftPM needs a source file.
#include "CKernelSupport.h"

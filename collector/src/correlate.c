// correlate.c - scaffolding; the engine is being written (issue 4).
#include "correlate.h"

#include <stdlib.h>

void
corr_params_default(corr_params *p)
{
	p->fail_threshold = 2;
	p->slow_factor    = 3.0;
}

Fl__DiagnoseReply *
corr_diagnose(const corr_view *view)
{
	(void) view;
	return NULL;
}

void
corr_reply_free(Fl__DiagnoseReply *r)
{
	(void) r;
}

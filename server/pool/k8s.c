/* The `kubernetes` pod backend (placeholder until the REST client lands). Pool thread only. */
#include "pool/backend.h"

int k8s_open(struct backend *b, struct err *err)
{
    (void)b;
    return err_set(err, ERR_UNAVAILABLE, "the kubernetes pod backend is not built yet");
}

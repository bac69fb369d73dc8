// verify_defaults.h - the defaults of a verification's tunables (`faultline verify`, the
// collector's automatic verifications), defined once.
//
// The collector applies them to every VerifyQuery field the asker left unset; the CLI sends
// only what the user gave and reads these only to size how long it waits for the answer.
// docs/verify.md and faultline(1) document the same values.

#ifndef FL_VERIFY_DEFAULTS_H
#define FL_VERIFY_DEFAULTS_H

#define FL_VERIFY_DEFAULT_ROUNDS        20   // canary window: 20 rounds 250 ms apart, about 5 s
#define FL_VERIFY_DEFAULT_ROUND_MS      250  // between rounds
#define FL_VERIFY_DEFAULT_SURVEY_MS     5000 // agents' time to answer one round
#define FL_VERIFY_DEFAULT_MAX_ERR_INC   0.05 // absolute: 5 percentage points
#define FL_VERIFY_DEFAULT_MAX_LAT_RATIO 1.5  // candidate median / baseline median
#define FL_VERIFY_DEFAULT_LAT_SLACK_MS  20   // added to ratio x baseline
#define FL_VERIFY_DEFAULT_CONFIDENCE    0.98 // of the rank test
#define FL_VERIFY_DEFAULT_MIN_SAMPLES   5    // per probe and group

#endif // FL_VERIFY_DEFAULTS_H

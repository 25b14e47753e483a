/*
 * The activity names a label may carry: the study's seven classes in the order used everywhere
 * (DESIGN.md section 1). Recording and relabelling refuse anything else, so that a typo never
 * becomes an eighth class.
 */
#ifndef REC_ACTIVITIES_H
#define REC_ACTIVITIES_H

extern const char *const cm_activity_names[7];
/* 1 when name is one of the seven. */
int cm_activity_valid(const char *name);
/* "downstairs, upstairs, ..." for messages. */
const char *cm_activity_list(void);

#endif

/* The activity names of labels; see rec_activities.h. */
#include "rec_activities.h"

#include <string.h>

const char *const cm_activity_names[7] = {"downstairs", "upstairs", "run", "jump",
                                          "walk", "handwashing", "exercise"};

int cm_activity_valid(const char *name) {
  for (int i = 0; i < 7; i++)
    if (strcmp(name, cm_activity_names[i]) == 0) return 1;
  return 0;
}

const char *cm_activity_list(void) {
  return "downstairs, upstairs, run, jump, walk, handwashing, exercise";
}

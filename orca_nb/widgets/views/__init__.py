"""ipyvuetify views over the state objects (templates in ``templates/``, text only, no v-html)."""

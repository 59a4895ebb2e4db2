// A lead's grade, stage and score as small chips, words first (the grade
// letter is named "H级" / "Grade H", never shown by colour alone).
import { label } from "../i18n.js";

export default {
  name: "LeadBadges",
  props: {
    lead: { type: Object, required: true },
    stage: { type: Boolean, default: false },  // the stage too (the lead's page)
  },
  setup() {
    return { label };
  },
  template: `
    <span class="badges">
      <span v-if="lead.grade" :class="['badge', 'badge--grade', 'badge--' + lead.grade]"
            :title="label('grade', lead.grade)">{{ $t('badge.grade', { grade: lead.grade }) }}</span>
      <span v-if="stage && lead.stage" class="badge badge--stage">{{ label('stage', lead.stage) }}</span>
      <span v-if="lead.score !== null && lead.score !== undefined" class="badge badge--score">{{ $t('badge.score', { score: lead.score }) }}</span>
    </span>`,
};

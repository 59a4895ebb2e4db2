// Says so while the server cannot be reached; api.js keeps retrying and
// clears it with the first answer.
import { connection } from "../api.js";

export default {
  name: "ConnectionBanner",
  setup() {
    return { connection };
  },
  template: `
    <div class="banner" role="status">
      <p v-if="!connection.online" class="banner__text">{{ $t('connection.offline') }}</p>
    </div>`,
};

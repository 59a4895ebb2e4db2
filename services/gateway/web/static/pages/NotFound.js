// Any path the app does not know.
import AppBar from "../components/AppBar.js";

export default {
  name: "NotFound",
  components: { AppBar },
  template: `
    <AppBar :title="$t('app.name')" />
    <main class="page page--narrow" id="main">
      <section class="panel">
        <h2 class="panel__title">{{ $t('notFound.title') }}</h2>
        <router-link :to="{ name: 'leads' }" class="button">{{ $t('notFound.home') }}</router-link>
      </section>
    </main>`,
};

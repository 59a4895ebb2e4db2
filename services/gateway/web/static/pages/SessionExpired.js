// Where the app goes when the server says the session is over.
import AppBar from "../components/AppBar.js";

export default {
  name: "SessionExpired",
  components: { AppBar },
  template: `
    <AppBar :title="$t('app.name')" />
    <main class="page page--narrow" id="main">
      <section class="panel">
        <h2 class="panel__title">{{ $t('expired.title') }}</h2>
        <p>{{ $t('expired.body') }}</p>
        <router-link :to="{ name: 'signin' }" class="button button--primary">{{ $t('expired.again') }}</router-link>
      </section>
    </main>`,
};

// The app: routes (one page each, pages/), the guard that wants a signed-in
// user, the expired-session page, and the service worker.
import { createApp } from "vue";
import { createRouter, createWebHistory } from "vue-router";
import * as api from "./api.js";
import { i18n } from "./i18n.js";
import ConnectionBanner from "./components/ConnectionBanner.js";
import Analytics from "./pages/Analytics.js";
import AnalyticsLeads from "./pages/AnalyticsLeads.js";
import Channels from "./pages/Channels.js";
import CustomerForm from "./pages/CustomerForm.js";
import CustomerImport from "./pages/CustomerImport.js";
import CustomerMerge from "./pages/CustomerMerge.js";
import CustomerProfile from "./pages/CustomerProfile.js";
import Customers from "./pages/Customers.js";
import Inbox from "./pages/Inbox.js";
import LeadDetail from "./pages/LeadDetail.js";
import Leads from "./pages/Leads.js";
import Manage from "./pages/Manage.js";
import NotFound from "./pages/NotFound.js";
import NotificationSettings from "./pages/NotificationSettings.js";
import RoutingRule from "./pages/RoutingRule.js";
import ScriptLibrary from "./pages/ScriptLibrary.js";
import SessionExpired from "./pages/SessionExpired.js";
import SignIn from "./pages/SignIn.js";
import TestDrives from "./pages/TestDrives.js";
import Today from "./pages/Today.js";

const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", name: "leads", component: Leads },
    { path: "/today", name: "today", component: Today },
    { path: "/test-drives", name: "testDrives", component: TestDrives },
    { path: "/leads/:id", name: "lead", component: LeadDetail, props: true },
    { path: "/manage", name: "manage", component: Manage },
    { path: "/manage/rules/new", name: "ruleNew", component: RoutingRule },
    { path: "/manage/rules/:ruleId", name: "rule", component: RoutingRule, props: true },
    { path: "/manage/channels", name: "channels", component: Channels },
    { path: "/scripts", name: "scripts", component: ScriptLibrary },
    { path: "/analytics", name: "analytics", component: Analytics },
    { path: "/analytics/leads", name: "analyticsLeads", component: AnalyticsLeads },
    { path: "/inbox", name: "inbox", component: Inbox },
    { path: "/settings/notifications", name: "notificationSettings", component: NotificationSettings },
    { path: "/customers", name: "customers", component: Customers },
    { path: "/customers/new", name: "customerNew", component: CustomerForm },
    { path: "/customers/duplicates", name: "duplicates", component: CustomerMerge },
    { path: "/customers/merge", name: "merge", component: CustomerMerge },
    { path: "/customers/import", name: "customerImport", component: CustomerImport },
    { path: "/customers/:id", name: "customer", component: CustomerProfile, props: true },
    { path: "/customers/:id/edit", name: "customerEdit", component: CustomerForm, props: true },
    { path: "/signin", name: "signin", component: SignIn, meta: { public: true } },
    { path: "/session-expired", name: "expired", component: SessionExpired, meta: { public: true } },
    { path: "/:unknown(.*)*", name: "notFound", component: NotFound, meta: { public: true } },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!api.signedIn()) return { name: "signin", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
  if (!api.session.user) {
    try {
      await api.loadMe();
    } catch (error) {
      if (error.sessionEnded) return { name: "expired" };
      throw error;
    }
  }
  return true;
});

api.onSessionEnd(() => router.replace({ name: "expired" }));

// The stored profile shows at once (offline too); the server's replaces it
// when it answers. An ended session goes to its page.
if (api.signedIn()) api.loadMe().catch(() => {});

const App = {
  components: { ConnectionBanner },
  template: `
    <ConnectionBanner />
    <router-view />`,
};

createApp(App).use(router).use(i18n).mount("#app");

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});  // the app works without it
}

/** Everyday phrasing mapped to the words catalogs use ("text message" → sms), weighted, for query expansion. */
import { compact, termOf } from './tokenize.js';

/*
 * Everyday phrasing → the words a catalog uses. A new user asks for "a text message", "my project tracker", "somewhere
 * to keep big files"; servers describe themselves as "sms", "project-management", "s3-storage". Each row maps
 * phrases (comma-separated; matched on index terms, so inflections match too: "text messages", "texting") to catalog
 * words with weights (1 = means the same, lower = related); a word marked # names a kind of server, as servers of
 * that kind are tagged or categorised — matched there, the query has named what sort of server it wants (the
 * server index ranks such servers like ones the query names). Tags are indexed joined as well ("project-management" →
 * projectmanagement), so a row can name a kind of product exactly. The phrase's own words stay in the query at
 * `own` (default 1 for one word, 0.35 for a phrase: "text" alone must not pull "LLM Text" above an SMS provider).
 *
 * A one-word phrase is matched by its term, so it must not share one with a plain word ("texting" is "text").
 * Rows are written from general language about what people use servers for, not from any query set; keep
 * catalog-specific brand names out except where the everyday word is the brand (jira for "tickets").
 */
type Row = readonly [phrases: string, words: string, own?: number];

const EVERYDAY: readonly Row[] = [
  // talking to people
  ['sms, text message, send a text, text someone', '#sms telephony:0.7 messaging:0.5'],
  ['phone, telephone, phone call, call someone, make a call, ring someone', '#telephony calling:0.8 dialer:0.8 calls:0.8 voice:0.4 phonenumbers:0.6'],
  ['team chat, group chat, chat channel', 'chat slack:0.7 discord:0.6 messaging:0.6 communication:0.5'],
  ['inbox, mailbox', 'email gmail:0.6 imap:0.6'],
  ['newsletter, mailing list', 'email:0.7 marketing:0.6'],
  // work and projects
  ['project tracker, issue tracker, bug tracker, ticket, tickets, ticketing', '#projectmanagement #issuetracking jira:0.6 issue:0.5'],
  ['task tracker, task manager', '#taskmanagement projectmanagement:0.8 tasks:0.6'],
  ['sprint, sprints, backlog, kanban, roadmap', 'projectmanagement issuetracking:0.8 board:0.5'],
  ['todo, to do list, todo list, checklist, reminders', '#taskmanagement #checklist task:0.7'],
  ['meeting notes, call notes, video call, video meeting, zoom call', '#meetings transcription:0.7 notes:0.6'],
  ['whiteboard, sketch, doodle, flowchart, mind map', '#diagramming diagram:0.9 drawing:0.8'],
  ['spreadsheet, spreadsheets', 'xlsx:0.8 excel:0.8 sheets:0.8 airtable:0.5 table:0.4'],
  ['slides, slide deck, presentation', 'pptx powerpoint'],
  ['word document, word file', 'docx document:0.6'],
  ['calendar, schedule a meeting, appointments', 'calendar scheduling:0.8 events:0.6'],
  ['chores, automatically, automate, on autopilot', 'automation workflowautomation workflow:0.7'],
  ['out loud, read aloud, aloud, speak, say it', 'speech #texttospeech voice:0.7 audio:0.6'],
  ['transcribe, recording, dictation', '#transcription transcript audio:0.6'],
  ['translate, another language, foreign language', '#translation translate language:0.6'],
  // money
  ['get paid, take payments, charge a card, payment, payments', '#payments billing:0.7 checkout:0.6 transactions:0.5'],
  ['bill, bills, spending, spend, costs, how much does it cost', 'cost #costmanagement billing:0.8 pricing:0.8'],
  ['stock, stocks, shares, stock market', '#stocks trading:0.8 market:0.6 finance:0.5'],
  ['crypto, cryptocurrency, coins', 'blockchain bitcoin:0.8 crypto trading:0.4'],
  ['wallet', 'wallet address:0.4 blockchain:0.5 bitcoin:0.5'],
  ['bet, betting, odds, who will win, election, elections', '#predictionmarkets prediction:0.8 forecasting:0.7 markets:0.5'],
  ['earnings, earnings call, quarterly results, annual report', 'earnings financial:0.7 filings:0.7 transcripts:0.5'],
  ['customers and deals, deals, sales pipeline, my customers, clients', '#crm sales:0.8 customer:0.7 deals'],
  ['potential customers, prospects, leads, sales leads', '#prospecting sales:0.8 leads crm:0.7 b2b:0.6'],
  // the web
  ['website, web site, webpage, web page', 'website web:0.8 site:0.8 page:0.6'],
  ['without code, without writing code, no code, no-code, drag and drop', '#websitebuilder cms:0.8 visually:0.6 drag:0.6', 0.3],
  ['short link, shorten, shorter link, long link, link shortener', '#urlshortener shortener link:0.6'],
  ['domain name, website name, name for my website', 'domain dns:0.4'],
  ['reachable, uptime, is it down, is my site up, ping', 'ping monitoring:0.6 probes:0.7 network:0.5 traceroute:0.6'],
  ['click through, click buttons, fill in a form, fill out a form, browse for me, control a browser', '#browserautomation browser:0.8 automation:0.6 playwright:0.6 puppeteer:0.6'],
  ['hacker news', 'hacker news', 1],
  // travel and places
  ['plane tickets, plane ticket, flight, fly, airfare', '#flights airports:0.6 travel:0.6'],
  ['place to stay, somewhere to stay, accommodation, hotel, hotels, vacation rental, holiday home', 'airbnb listing:0.6 lodging travel:0.6'],
  ['vacation, holiday, trip', 'travel:0.8'],
  ['directions, route, how do i get to', 'directions routing:0.8 maps:0.7 navigation:0.7'],
  ['ship, ships, boat, boats, vessel, vessels, harbour, harbor', 'vessel #boating ais maritime'],
  ['rain, snow, temperature, sunny, umbrella', '#weather forecast:0.8'],
  // health, public data
  ['patient, patients, medical records, doctor, clinic, health records', '#ehr #medical patient healthcare:0.8'],
  ['refugees, disaster, disasters, humanitarian, crisis', 'humanitarian data:0.3 crisis'],
  ['statistics, stats', 'statistics analytics:0.6 data:0.4'],
  ['dashboard, chart, charts, plot, visualize, visualise', '#datavisualization visualization dashboard chart:0.8'],
  ['my documents, my files, my own files, my pdfs, ask questions about', '#rag documents:0.7 semanticsearch:0.7 knowledgebase:0.7'],
  // security
  ['hackers, hacker, intruders, attackers, attacks', 'security #threatdetection threat:0.8 firewall:0.7'],
  ['security holes, security hole, vulnerabilities, exploits, cve, cves', 'vulnerability #vulns #cves security:0.5'],
  ['password, passwords, credentials, secret note', 'encrypted:0.6 secure:0.6 password secrets:0.6 notes:0.4'],
  ['sign in, log in, login, single sign-on, sso', '#authentication identity:0.8 login signin'],
  // building and running software
  ['put online, host my app, go live, deploy my app, publish my app', 'deploy hosting:0.8 deployment:0.8 apps:0.4', 0.3],
  ['virtual machine, virtual machines, vm, vms, homelab, home server', '#virtualization virtual:0.8 proxmox:0.6'],
  ['cpu, too slow, speed up, memory usage, slow program', '#profiling performance:0.8 cpu'],
  ['big files, file storage, store files, keep files, backups, backup', 'storage #s3storage s3:0.7 object:0.5 bucket:0.6'],
  ['code quality, bad style, lint, linting, code smells, review my code', '#codequality #staticanalysis #codeanalysis lint quality:0.6'],
  ['bug, bugs', 'bug issue:0.5 error:0.5'],
  ['crash, crashes, errors in my app, exceptions', '#errortracking error:0.8 crash exception:0.8'],
  ['on call, on-call, pager, outage, downtime', '#oncall incident #incidentmanagement alerts:0.6'],
  ['fake api, mock api, pretend to be an api, stub an api, simulate an api', '#httpmocking #servicevirtualization mock mocking simulation:0.6', 0.3],
  ['remember, memorize, don t forget', 'memory persistent:0.7 knowledgegraph:0.5'],
  ['run code, execute code, run a script', 'interpreter sandbox execute:0.7 code:0.5'],
  // media
  ['promo video, advert, ad, commercial, marketing video', 'video marketing:0.7 #contentcreation:0.7'],
  ['picture, pictures, snapshot', 'image'],
  ['frame around, border around', 'border frame'],
  ['music, song, songs, playlist, playlists', '#music spotify:0.6 audio:0.5'],
  ['podcast, podcasts', '#podcasts audio:0.6'],
  // shopping
  ['sell online, online store, shop, ecommerce', '#ecommerce #commerce marketplace:0.8 store'],
  ['brazil, argentina, mexico, chile, colombia, latin america, south america', 'latinamerica latin:0.6'],
];

export interface ConceptWord {
  word: string;
  weight: number;
  /** Names a kind of server, as its tags or category would ("#sms", "#projectmanagement"). */
  kind?: boolean;
}

export interface Concept {
  /** which row of its table: phrases of one row are one concept */
  row: number;
  /** words of the query it spans */
  length: number;
  words: readonly ConceptWord[];
  /** weight of the phrase's own words */
  ownWeight: number;
}

/** The words of a recognised phrase, each on its own, say less than the phrase. */
const PHRASE_OWN_WEIGHT = 0.35;
/** Up to this many words in one phrase. */
const MAX_PHRASE = 5;

function parseWords(spec: string): ConceptWord[] {
  return spec
    .split(' ')
    .filter(Boolean)
    .map((w) => {
      const [word, weight] = w.replace(/^#/, '').split(':');
      const cw: ConceptWord = { word: word!, weight: weight === undefined ? 1 : Number(weight) };
      if (w.startsWith('#')) cw.kind = true;
      return cw;
    });
}

/** A table of rows keyed by the index terms of each phrase's words, joined by spaces. */
export class ConceptTable {
  private readonly byKey = new Map<string, Concept>();
  private longest = 1;

  constructor(rows: readonly Row[]) {
    for (const [row, [phrases, spec, own]] of rows.entries()) {
      const words = parseWords(spec);
      for (const phrase of phrases.split(',')) {
        const terms = phrase.trim().toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).map(termOf);
        if (!terms.length || terms.length > MAX_PHRASE) continue;
        this.longest = Math.max(this.longest, terms.length);
        this.byKey.set(terms.join(' '), { row, length: terms.length, words, ownWeight: own ?? (terms.length === 1 ? 1 : PHRASE_OWN_WEIGHT) });
      }
    }
  }

  /** The longest phrase that starts at words[i], if any. */
  at(words: readonly string[], i: number): Concept | undefined {
    for (let n = Math.min(this.longest, words.length - i); n >= 1; n--) {
      const key = words.slice(i, i + n).map(termOf).join(' ');
      const c = this.byKey.get(key);
      if (c) return c;
    }
    return undefined;
  }
}

const everyday = new ConceptTable(EVERYDAY);

/** The everyday phrase that starts at words[i] (lower-cased query words), if any. */
export function conceptAt(words: readonly string[], i: number): Concept | undefined {
  return everyday.at(words, i);
}

/** A tag or category as one word too ("project-management" → projectmanagement), so a concept can name it. */
export function joinedTag(tag: string): string | undefined {
  return /[\p{L}\p{N}][^\p{L}\p{N}]+[\p{L}\p{N}]/u.test(tag) ? compact(tag) : undefined;
}
